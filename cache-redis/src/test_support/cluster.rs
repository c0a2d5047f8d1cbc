//! A throwaway three-node Redis Cluster.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{NOT_INSTALLED, RedisServer};

/// Three cluster-enabled `redis-server`s (masters, no replicas) with all 16384 slots assigned;
/// killed on drop, their `nodes-P.conf` files removed.
///
/// ```no_run
/// use cache_redis::test_support::RedisCluster;
/// let cluster = RedisCluster::start();
/// assert_eq!(cluster.urls().len(), 3);
/// ```
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Starts the nodes, runs `redis-cli --cluster create` and waits for `cluster_state:ok`.
    ///
    /// # Panics
    /// If `redis-server` or `redis-cli` is missing, or the cluster does not form in 20 s.
    pub fn start() -> RedisCluster {
        RedisCluster::start_with(&[])
    }

    /// Like [`start`](RedisCluster::start), with extra `redis-server` arguments for every node,
    /// e.g. `&["--appendonly", "yes"]` so a killed node restarts with its data (the files live
    /// in the cluster's temporary directory).
    pub fn start_with(extra: &[&str]) -> RedisCluster {
        let dir = std::env::temp_dir().join(format!(
            "cache-redis-cluster-{}-{:x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("create the cluster's temporary directory");
        let mut cluster = RedisCluster {
            nodes: Vec::new(),
            dir,
        };
        while cluster.nodes.len() < 3 {
            let port = cluster_port(&cluster.nodes);
            let conf = format!("nodes-{port}.conf");
            let dir = cluster.dir.to_string_lossy().into_owned();
            let mut args = vec![
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                &conf,
                "--dir",
                &dir,
            ];
            args.extend_from_slice(extra);
            if let Some(node) = RedisServer::spawn_on(port, &args) {
                cluster.nodes.push(node);
            }
        }
        cluster.create();
        cluster
    }

    /// `redis://127.0.0.1:<port>` of each node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes, e.g. to read `INFO` from each.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    fn create(&self) {
        let addresses: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port()))
            .collect();
        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match status {
            Ok(status) => assert!(status.success(), "redis-cli --cluster create failed"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{NOT_INSTALLED}"),
            Err(e) => panic!("could not run redis-cli: {e}"),
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.nodes.iter().all(|n| {
            n.query(&["CLUSTER", "INFO"])
                .is_ok_and(|info| info.contains("cluster_state:ok"))
        }) {
            assert!(
                Instant::now() < deadline,
                "the cluster did not reach cluster_state:ok"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            node.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl std::fmt::Debug for RedisCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RedisCluster").field(&self.nodes).finish()
    }
}

/// A free port whose cluster-bus port (port + 10000) is free too, not used by `taken`.
fn cluster_port(taken: &[RedisServer]) -> u16 {
    loop {
        let port = fastrand::u16(20_000..30_000);
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if taken.iter().all(|n| n.port() != port) && free(port) && free(port + 10_000) {
            return port;
        }
    }
}
