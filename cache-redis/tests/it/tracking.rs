//! Key tracking (`Invalidation::Tracking`): a node drops its local copy of a key once the key
//! changes in Redis, whoever changed it — here a real `redis-cli` process from outside.

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_core::{Cache, CacheKey, Options, RemoteEvent, RemoteTier};
use cache_redis::test_support::RedisServer;
use cache_redis::{Invalidation, RedisTier, RedisTierBuilder};
use common::{calls, eventually, node, raw};

pub(crate) const WITHIN: Duration = Duration::from_secs(5);

fn opts() -> Options {
    Options::new().ttl(Duration::from_secs(600))
}

/// A node in namespace `t` (see `common::node`) whose tier runs in `mode`, and the keys the
/// tier has reported changed, in order (a listener of the test's own, next to the engine's).
pub(crate) struct Node {
    pub(crate) tier: RedisTier,
    pub(crate) cache: Cache,
    pub(crate) reported: Arc<Mutex<Vec<String>>>,
}

pub(crate) async fn node_with(builder: RedisTierBuilder, mode: Invalidation) -> Node {
    let tier = builder
        .command_timeout(Duration::from_secs(1))
        .backplane_trust(Duration::from_millis(500))
        .invalidation(mode)
        .tracking_prefix("t:")
        .connect()
        .await
        .unwrap();
    let cache = node(&tier);
    let reported = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&reported);
    tier.subscribe(Arc::new(move |event| {
        if let RemoteEvent::Invalidate(key) = event {
            log.lock().unwrap().push(key);
        }
    }));
    Node {
        tier,
        cache,
        reported,
    }
}

impl Node {
    /// Caches `value` under `key` and waits until it is served from the local tier. With
    /// tracking, the node's own write is reported back to it and drops the fresh copy; this
    /// waits for that report first (the engine's listener runs before the test's), so what
    /// drops the copy afterwards can only be a later change.
    pub(crate) async fn cached_locally(&self, key: &CacheKey, value: u32) {
        let reported = self.reported.lock().unwrap().len();
        self.cache.set(key, &value, &opts()).await;
        if self.tier.config().invalidation.tracks() {
            let name = remote(key);
            eventually(WITHIN, "own write reported", || async {
                self.reported.lock().unwrap()[reported..].contains(&name)
            })
            .await;
        }
        eventually(WITHIN, "served locally", || async {
            let before = self.cache.stats().local_hits;
            self.cache.get::<u32>(key).await == Some(value)
                && self.cache.stats().local_hits > before
        })
        .await;
    }
}

/// The key as stored in Redis: namespace `t`, then the key text.
pub(crate) fn remote(key: &CacheKey) -> String {
    format!("t:{}", key.as_str())
}

/// Runs `redis-cli -p port [-c] args…` as another program would, `input` on its stdin.
pub(crate) fn redis_cli(port: u16, args: &[&str], input: &[u8]) -> String {
    let mut child = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "-c"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "redis-cli {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The envelope Redis holds for `value`, as written by the framework (to `SET` from outside).
async fn envelope_of(cache: &Cache, url: &str, value: u32) -> Vec<u8> {
    let key = CacheKey::new("envelope-source", &value);
    cache.set(&key, &value, &opts()).await;
    let bytes: Option<Vec<u8>> = redis::cmd("GET")
        .arg(remote(&key))
        .query_async(&mut raw(url).await)
        .await
        .unwrap();
    bytes.expect("the framework wrote the value")
}

/// `SET`, then `DEL`, then `FLUSHALL` from outside, each checked on `cache`; returns what
/// `cache` serves afterwards for a key changed by each (`None` = dropped and gone).
async fn outside_changes(node: &Node, server: &RedisServer) -> [Option<u32>; 3] {
    let cache = &node.cache;
    let (set_key, del_key, flush_key) = (
        CacheKey::new("user", &1),
        CacheKey::new("user", &2),
        CacheKey::new("user", &3),
    );
    let new_bytes = envelope_of(cache, &server.url(), 99).await;
    let mut served = [None; 3];
    for (i, key) in [&set_key, &del_key, &flush_key].into_iter().enumerate() {
        node.cached_locally(key, 1).await;
        match i {
            0 => redis_cli(server.port(), &["-x", "SET", &remote(key)], &new_bytes),
            1 => redis_cli(server.port(), &["DEL", &remote(key)], b""),
            _ => redis_cli(server.port(), &["FLUSHALL"], b""),
        };
        let wanted = [Some(99), None, None][i];
        // Bounded: with tracking the change arrives in well under a second; without it the
        // old value stays, and the bound is what lets the control run show that.
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while cache.get::<u32>(key).await != wanted {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        served[i] = cache.get::<u32>(key).await;
    }
    served
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_set_del_or_flushall_stops_the_old_local_value_being_served() {
    let server = RedisServer::start();
    let node = node_with(RedisTier::builder(&server.url()), Invalidation::Tracking).await;
    assert_eq!(node.tier.health().tracking_connected, Some(true));
    assert_eq!(
        outside_changes(&node, &server).await,
        [Some(99), None, None]
    );
    let stats = node.tier.stats();
    assert!(stats.tracking_invalidations >= 2, "{stats:?}");
    assert_eq!(stats.tracking_flushes, 1, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_backplane_only_outside_changes_leave_the_old_local_value_served() {
    let server = RedisServer::start();
    let node = node_with(RedisTier::builder(&server.url()), Invalidation::Backplane).await;
    assert_eq!(node.tier.health().tracking_connected, None);
    // The stale value the issue is about: the outside change is invisible to the node.
    assert_eq!(outside_changes(&node, &server).await, [Some(1); 3]);
    assert_eq!(node.tier.stats().tracking_invalidations, 0);
}

/// The id of the tracking connection in `CLIENT LIST` on `server`.
fn tracking_client_id(server: &RedisServer) -> String {
    let clients = server.query(&["CLIENT", "LIST"]).unwrap();
    let line = clients
        .lines()
        .find(|l| l.contains("name=cache-tracking"))
        .expect("a tracking connection");
    let id = line.split(' ').find_map(|f| f.strip_prefix("id=")).unwrap();
    id.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_tracking_connection_is_reenabled_and_changes_in_the_gap_are_not_served() {
    let server = RedisServer::start();
    let node = node_with(RedisTier::builder(&server.url()), Invalidation::Tracking).await;
    let (tier, cache) = (&node.tier, &node.cache);
    let key = CacheKey::new("user", &7);
    node.cached_locally(&key, 1).await;
    let before = tier.stats();
    // One redis-cli session kills the tracking connection and deletes the key right after,
    // before the node can have tracking enabled again: no invalidation reports that delete.
    let id = tracking_client_id(&server);
    let script = format!("CLIENT KILL ID {id}\nDEL {}\n", remote(&key));
    let out = redis_cli(server.port(), &[], script.as_bytes());
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["1", "1"],
        "killed one, deleted one"
    );
    eventually(WITHIN, "old value no longer served", || async {
        cache.get::<u32>(&key).await.is_none()
    })
    .await;
    eventually(WITHIN, "tracking enabled again", || async {
        tier.health().tracking_connected == Some(true)
    })
    .await;
    let after = tier.stats();
    assert_eq!(
        after.tracking_subscriptions,
        before.tracking_subscriptions + 1
    );
    assert_ne!(tracking_client_id(&server), id, "a new connection");
    // And it tracks again: an outside delete after the gap is reported.
    node.cached_locally(&key, 2).await;
    redis_cli(server.port(), &["DEL", &remote(&key)], b"");
    eventually(WITHIN, "dropped after the gap", || async {
        cache.get::<u32>(&key).await.is_none()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_writes_are_reported_back_and_cost_at_most_one_redis_read_each_never_a_wrong_value() {
    let server = RedisServer::start();
    let node = node_with(RedisTier::builder(&server.url()), Invalidation::Tracking).await;
    let cache = &node.cache;
    let key = CacheKey::new("user", &8);
    let (rounds, reads) = (20_u32, 3_u32);
    let before = cache.stats();
    for value in 0..rounds {
        let seen = node.reported.lock().unwrap().len();
        cache.set(&key, &value, &opts()).await;
        // The node's own SET is reported to it like anyone's. It drops the fresh local copy
        // if it lands after the local store, not if it lands before; either way the node
        // serves what it wrote.
        eventually(WITHIN, "own write reported", || async {
            node.reported.lock().unwrap()[seen..].contains(&remote(&key))
        })
        .await;
        for _ in 0..reads {
            assert_eq!(cache.get::<u32>(&key).await, Some(value));
        }
    }
    let after = cache.stats();
    let refills = after.remote_hits - before.remote_hits;
    println!("FIGURE tracking own_write_refills = {refills} of {rounds} writes");
    assert!(
        refills <= u64::from(rounds),
        "at most one Redis read per write"
    );
    assert_eq!(
        after.local_hits - before.local_hits + refills,
        u64::from(rounds * reads),
        "every other read is a local hit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracking_alone_publishes_no_key_announcements_yet_other_nodes_drop_the_key() {
    let server = RedisServer::start();
    let url = server.url();
    let (a, b) = (
        node_with(RedisTier::builder(&url), Invalidation::Tracking).await,
        node_with(RedisTier::builder(&url), Invalidation::Tracking).await,
    );
    let (a, b) = (&a.cache, &b);
    let key = CacheKey::new("user", &9);
    b.cached_locally(&key, 1).await;
    let b = &b.cache;
    let published = calls(&server.query(&["INFO", "commandstats"]).unwrap(), "publish");
    a.invalidate(&key).await;
    eventually(WITHIN, "b dropped the key", || async {
        b.get::<u32>(&key).await.is_none()
    })
    .await;
    let commandstats = server.query(&["INFO", "commandstats"]).unwrap();
    assert_eq!(calls(&commandstats, "publish"), published, "no PUBLISH");
}
