//! The faults injected during a run, one at a time. `RedisServer`'s methods block (they wait
//! for the process), so they run on the blocking pool.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_redis::test_support::{RedisCluster, RedisServer};

use super::model::COMMAND_TIMEOUT;
use super::proxy::Proxy;

pub trait Faults {
    /// Injects one fault, waits until it is over (the server is back), returns its kind.
    fn inject(&mut self) -> impl Future<Output = &'static str>;
    /// Undoes anything left over before the final sweep.
    fn heal(&mut self) -> impl Future<Output = ()>;
}

/// A SIGSTOP longer than the command timeout, so calls time out and the breaker opens.
fn pause_time() -> Duration {
    COMMAND_TIMEOUT * 2 + Duration::from_millis(fastrand::u64(0..800))
}

fn down_time() -> Duration {
    Duration::from_millis(fastrand::u64(100..600))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("fault task panicked")
}

fn kill_pubsub(server: &RedisServer) {
    let _ = server.query(&["CLIENT", "KILL", "TYPE", "pubsub"]);
}

/// Single node behind the failover proxy, with a replica ready to be promoted.
pub struct Failover {
    pub servers: [Arc<RedisServer>; 2],
    pub primary: usize,
    pub proxy: Proxy,
    /// Where a replica may write a synced RDB (never the crate directory); removed on drop.
    dir: PathBuf,
}

impl Drop for Failover {
    fn drop(&mut self) {
        self.servers.iter().for_each(|s| s.kill());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Failover {
    /// Starts a primary, a replica of it and the proxy in front of the primary.
    pub async fn start() -> Failover {
        let dir = std::env::temp_dir().join(format!(
            "cache-redis-coherence-{}-{:x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("create the servers' temporary directory");
        let path = dir.to_string_lossy().into_owned();
        // Full syncs go over the socket both ways, and anything written lands in `dir`.
        let start = move || {
            // No delay before a full sync: a replica behind an empty, restarted primary must
            // not keep its pre-restart data for seconds.
            let args = [
                "--dir",
                &path,
                "--repl-diskless-sync",
                "yes",
                "--repl-diskless-sync-delay",
                "0",
            ];
            let args = [&args[..], &["--repl-diskless-load", "swapdb"]].concat();
            RedisServer::start_with(&args)
        };
        let (a, b) = blocking(move || (start(), start())).await;
        let failover = Failover {
            proxy: Proxy::start(a.port()).await,
            servers: [Arc::new(a), Arc::new(b)],
            primary: 0,
            dir,
        };
        let port = failover.servers[0].port().to_string();
        let reply = failover.servers[1].query(&["REPLICAOF", "127.0.0.1", &port]);
        assert!(reply.is_ok_and(|r| r == "OK"), "REPLICAOF failed");
        failover
    }

    fn primary(&self) -> Arc<RedisServer> {
        self.servers[self.primary].clone()
    }

    /// A planned failover, as a managed endpoint does it: writes on the primary are paused until
    /// the replica caught up, so no acknowledged write is lost — any stale value afterwards is
    /// the cache's doing, not asynchronous replication's. Then the replica is promoted, the
    /// endpoint switched (closing every client connection) and the old primary follows it.
    ///
    /// A replica that has not caught up within 2 s (still resyncing after the primary was
    /// restarted) is not promoted: that would be a failover that loses acknowledged writes,
    /// which no cache can hide (documented as a limit). Returns whether it promoted.
    async fn promote(&mut self) -> bool {
        let (old, new) = (self.primary(), self.servers[1 - self.primary].clone());
        let ready = blocking(move || {
            let _ = old.query(&["CLIENT", "PAUSE", "3000", "WRITE"]);
            let until = Instant::now() + Duration::from_secs(2);
            while !caught_up(&old, &new) {
                if Instant::now() >= until {
                    let _ = old.query(&["CLIENT", "UNPAUSE"]);
                    return false;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            true
        })
        .await;
        if !ready {
            return false;
        }
        let new = self.servers[1 - self.primary].clone();
        let _ = new.query(&["REPLICAOF", "NO", "ONE"]);
        self.proxy.switch(new.port());
        let old = self.primary();
        let _ = old.query(&["REPLICAOF", "127.0.0.1", &new.port().to_string()]);
        let _ = old.query(&["CLIENT", "UNPAUSE"]);
        self.primary = 1 - self.primary;
        true
    }
}

/// Whether `replica` is linked to `primary` and has applied everything it sent.
fn caught_up(primary: &RedisServer, replica: &RedisServer) -> bool {
    let field = |info: &str, name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    let (Ok(p), Ok(r)) = (
        primary.query(&["INFO", "replication"]),
        replica.query(&["INFO", "replication"]),
    ) else {
        return false;
    };
    field(&r, "master_link_status:").as_deref() == Some("up")
        && field(&p, "master_repl_offset:") == field(&r, "slave_repl_offset:")
}

impl Faults for Failover {
    async fn inject(&mut self) -> &'static str {
        let primary = self.primary();
        match fastrand::u8(0..4) {
            0 => {
                // Comes back empty on the same port; the replica resyncs from it (empty too).
                blocking(move || {
                    primary.kill();
                    std::thread::sleep(down_time());
                    primary.restart();
                })
                .await;
                "kill+restart"
            }
            1 => {
                primary.pause();
                tokio::time::sleep(pause_time()).await;
                primary.resume();
                "sigstop"
            }
            2 => {
                blocking(move || kill_pubsub(&primary)).await;
                "client-kill-pubsub"
            }
            _ => {
                if self.promote().await {
                    "replica-promoted"
                } else {
                    "promotion-skipped-replica-behind"
                }
            }
        }
    }

    async fn heal(&mut self) {
        for server in &self.servers {
            server.resume();
        }
    }
}

/// A three-node Cluster (no replicas; the tiers connect to it directly).
pub struct ClusterFaults {
    pub cluster: Arc<RedisCluster>,
}

impl Faults for ClusterFaults {
    async fn inject(&mut self) -> &'static str {
        let cluster = self.cluster.clone();
        let victim = fastrand::usize(0..cluster.nodes().len());
        match fastrand::u8(0..3) {
            0 => {
                // Its nodes.conf keeps it in the cluster with its slots; its AOF keeps its data.
                blocking(move || {
                    let node = &cluster.nodes()[victim];
                    node.kill();
                    std::thread::sleep(down_time());
                    node.restart();
                    wait_cluster_ok(&cluster);
                })
                .await;
                "node-kill+restart"
            }
            1 => {
                cluster.nodes()[victim].pause();
                tokio::time::sleep(pause_time()).await;
                cluster.nodes()[victim].resume();
                "node-sigstop"
            }
            _ => {
                blocking(move || cluster.nodes().iter().for_each(kill_pubsub)).await;
                "client-kill-pubsub-all"
            }
        }
    }

    async fn heal(&mut self) {
        let cluster = self.cluster.clone();
        blocking(move || {
            cluster.nodes().iter().for_each(RedisServer::resume);
            wait_cluster_ok(&cluster);
        })
        .await;
    }
}

/// Bounded: a cluster that does not recover shows up as errors and sweep violations instead.
fn wait_cluster_ok(cluster: &RedisCluster) {
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        let ok = cluster.nodes().iter().all(|n| {
            n.query(&["CLUSTER", "INFO"])
                .is_ok_and(|i| i.contains("cluster_state:ok"))
        });
        if ok {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("coherence: the cluster did not reach cluster_state:ok within 15 s");
}
