//! `Cache::clear` on Redis, single node and Cluster: one `HINCRBY` empties a namespace of any
//! size on every node, old entries expire by their TTL, and a node that missed the
//! announcement moves to the new generation when its subscription comes back.

use crate::common;

use std::time::Duration;

use cache_core::{Cache, CacheKey, Options};
use cache_redis::RedisTier;
use cache_redis::test_support::{RedisCluster, RedisServer};
use common::{calls, cluster_tier, eventually, node, tier};

const KEYS: u32 = 5_000;
const WITHIN: Duration = Duration::from_secs(5);

fn opts() -> Options {
    Options::new().ttl(Duration::from_secs(600))
}

fn keys() -> Vec<CacheKey> {
    (0..KEYS).map(|i| CacheKey::new("many", &i)).collect()
}

/// `command`'s calls summed over `servers`.
fn total(servers: &[RedisServer], command: &str) -> u64 {
    servers
        .iter()
        .map(|s| calls(&s.query(&["INFO", "commandstats"]).unwrap(), command))
        .sum()
}

fn db_size(servers: &[RedisServer]) -> u64 {
    servers
        .iter()
        .map(|s| s.query(&["DBSIZE"]).unwrap().parse::<u64>().unwrap())
        .sum()
}

/// `PTTL key` asked of whichever server owns the key (the others answer `-MOVED`).
fn pttl(servers: &[RedisServer], key: &str) -> i64 {
    servers
        .iter()
        .filter_map(|s| s.query(&["PTTL", key]).ok())
        .find_map(|reply| reply.parse().ok())
        .unwrap_or_else(|| panic!("no server answered PTTL {key}"))
}

async fn write_all(cache: &Cache, keys: &[CacheKey]) {
    let mut tasks = Vec::new();
    for chunk in keys.chunks(500) {
        let (cache, chunk) = (cache.clone(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for (i, key) in chunk.iter().enumerate() {
                cache.set(key, &(i as u32), &opts()).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// Node `a` writes [`KEYS`] entries, node `b` reads them all (keeping local copies), `a`
/// clears: both miss every key, Redis saw one `HINCRBY` and no per-key command.
async fn clear_empties_many_keys_with_one_increment(servers: &[RedisServer], a: Cache, b: Cache) {
    let keys = keys();
    write_all(&a, &keys).await;
    let read = b.get_many::<u32>(&keys).await;
    assert!(read.iter().all(Option::is_some), "b read every entry");
    let size = db_size(servers);
    assert_eq!(size, u64::from(KEYS));
    let counted = [
        "hincrby", "scan", "keys", "unlink", "del", "set", "evalsha", "eval",
    ];
    let before: Vec<u64> = counted.iter().map(|c| total(servers, c)).collect();

    a.clear().await.unwrap();

    let after: Vec<u64> = counted.iter().map(|c| total(servers, c)).collect();
    let delta: Vec<(&str, u64)> = counted
        .iter()
        .zip(after.iter().zip(&before))
        .map(|(c, (after, before))| (*c, after - before))
        .collect();
    let expected: Vec<(&str, u64)> = counted
        .iter()
        .map(|&c| (c, u64::from(c == "hincrby")))
        .collect();
    assert_eq!(delta, expected, "one HINCRBY, nothing per key");
    assert_eq!(
        db_size(servers),
        size + 1,
        "old entries stay; plus the counter"
    );
    assert_eq!(pttl(servers, "t:@gen"), -1, "the counter does not expire");
    for key in keys.iter().step_by(500) {
        let old = format!("t:{}", key.as_str());
        assert!(pttl(servers, &old) > 0, "{old} still expires by itself");
    }

    eventually(WITHIN, "b moved to generation 1", || async {
        b.generation() == 1
    })
    .await;
    for (name, cache) in [("a", &a), ("b", &b)] {
        let found = cache.get_many::<u32>(&keys).await;
        let hits = found.iter().filter(|v| v.is_some()).count();
        assert_eq!(hits, 0, "{name} serves no pre-clear entry");
    }
    a.set(&keys[0], &77_u32, &opts()).await;
    assert_eq!(
        b.get::<u32>(&keys[0]).await,
        Some(77),
        "written after: served"
    );
    assert_eq!(a.stats().errors + b.stats().errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_on_one_server_empties_five_thousand_keys_with_one_increment() {
    let server = RedisServer::start();
    let (a, b) = (
        node(&tier(&server.url()).await),
        node(&tier(&server.url()).await),
    );
    clear_empties_many_keys_with_one_increment(std::slice::from_ref(&server), a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_on_a_cluster_empties_five_thousand_keys_across_slots_with_one_increment() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    // Different seed orders: the subscribers listen on different cluster nodes.
    let (a, b) = (
        node(&cluster_tier(&urls).await),
        node(&cluster_tier(&[urls[2].clone(), urls[0].clone()]).await),
    );
    clear_empties_many_keys_with_one_increment(cluster.nodes(), a, b).await;
}

/// A clear whose announcement `b` never heard (here: the counter moved without one) reaches
/// `b` when its subscription comes back: it re-reads the generation.
async fn a_node_that_missed_the_clear_catches_up_on_resubscribe(
    servers: &[RedisServer],
    b_tier: RedisTier,
) {
    let b = node(&b_tier);
    let key = CacheKey::new("user", &7);
    b.set(&key, &1_u8, &opts()).await;
    assert_eq!(b.generation(), 0);
    // The owner of the counter's slot answers `1`; other Cluster nodes answer `-MOVED`.
    let bumped = servers
        .iter()
        .filter_map(|s| s.query(&["HINCRBY", "t:@gen", "n", "1"]).ok())
        .any(|reply| reply == "1");
    assert!(bumped, "the counter moved to 1");
    assert_eq!(
        b.get::<u8>(&key).await,
        Some(1),
        "b missed it: still generation 0"
    );

    for server in servers {
        let _ = server.query(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    }

    eventually(WITHIN, "b re-read the generation", || async {
        b.generation() == 1
    })
    .await;
    assert_eq!(b.get::<u8>(&key).await, None);
    assert!(b_tier.health().backplane_connected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_missed_a_clear_is_on_the_new_generation_after_it_resubscribes() {
    let server = RedisServer::start();
    let b = tier(&server.url()).await;
    a_node_that_missed_the_clear_catches_up_on_resubscribe(std::slice::from_ref(&server), b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_node_that_missed_a_clear_catches_up_after_it_resubscribes() {
    let cluster = RedisCluster::start();
    let b = cluster_tier(&cluster.urls()).await;
    a_node_that_missed_the_clear_catches_up_on_resubscribe(cluster.nodes(), b).await;
}

/// `connect` checks the clear's command too, so a missing permission shows at start-up, not
/// on the first `clear`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_may_not_increment_the_generation_cannot_connect() {
    let server = RedisServer::start_with(&[
        "--user", "noclear", "on", ">pw", "~*", "&*", "+@all", "-hincrby",
    ]);
    let url = format!("redis://noclear:pw@127.0.0.1:{}", server.port());
    let error = common::builder(&url)
        .connect()
        .await
        .expect_err("HINCRBY is refused");
    assert!(error.to_string().contains("HINCRBY"), "{error}");
}
