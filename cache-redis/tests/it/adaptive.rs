//! Adaptive entries through Redis: the TTL a loader decides for one value is that key's PTTL
//! (plus the stale window), whatever the options say — single node and Cluster.

use crate::common;

use std::time::Duration;

use cache_core::{Cache, CacheKey, Entry, Options};
use cache_redis::test_support::{RedisCluster, RedisServer};
use common::{Calls, cluster_tier, node, raw, tier};

fn long_lived() -> Options {
    Options::new().ttl(Duration::from_secs(600))
}

/// Loads `key` with an entry that lives 30 s (the options say 600 s) on `a`; `b` is then
/// served it from Redis without loading.
async fn load_short(a: &Cache, b: &Cache, key: &CacheKey, calls: &Calls) {
    for cache in [a, b] {
        let load = || async {
            calls.hit();
            Ok::<_, String>(Entry::new("1.08".to_string()).ttl(Duration::from_secs(30)))
        };
        let got = cache.get_or_load_entry(key, &long_lived(), load).await;
        assert_eq!(got, Ok("1.08".to_string()));
    }
    assert_eq!(calls.get(), 1, "b was served a's entry from Redis");
}

fn assert_short(pttl: i64) {
    assert!(
        pttl > 0 && pttl <= 30_000,
        "PTTL {pttl} follows the entry's 30 s, not the options' 600 s"
    );
}

#[tokio::test]
async fn redis_pttl_follows_the_entry_ttl_on_a_single_node() {
    let server = RedisServer::start();
    let (a, b) = (
        node(&tier(&server.url()).await),
        node(&tier(&server.url()).await),
    );
    let (calls, key) = (Calls::default(), CacheKey::new("fx", &"EURUSD"));
    load_short(&a, &b, &key, &calls).await;
    let mut conn = raw(&server.url()).await;
    let pttl: i64 = redis::cmd("PTTL")
        .arg(a.remote_key(&key))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_short(pttl);

    let skipped = CacheKey::new("fx", &"partial");
    let load = || async { Ok::<_, String>(Entry::skip("0".to_string())) };
    assert_eq!(
        a.get_or_load_entry(&skipped, &long_lived(), load).await,
        Ok("0".into())
    );
    let exists: i64 = redis::cmd("EXISTS")
        .arg(a.remote_key(&skipped))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        exists, 0,
        "a skipped entry leaves no key (nor a lease) behind"
    );
    assert_eq!(a.stats().errors + b.stats().errors, 0);
}

#[tokio::test]
async fn redis_pttl_follows_the_entry_ttl_on_a_cluster() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let (a, b) = (
        node(&cluster_tier(&urls).await),
        node(&cluster_tier(&urls).await),
    );
    let (calls, key) = (Calls::default(), CacheKey::new("fx", &"EURUSD"));
    load_short(&a, &b, &key, &calls).await;
    let client = redis::cluster::ClusterClient::new(urls).unwrap();
    let mut conn = client.get_async_connection().await.unwrap();
    let pttl: i64 = redis::cmd("PTTL")
        .arg(a.remote_key(&key))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_short(pttl);
    assert_eq!(a.stats().errors + b.stats().errors, 0);
}
