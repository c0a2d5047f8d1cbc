//! Negative caching through Redis: a `None` cached with `Options::none_ttl` is a real remote
//! entry whose Redis TTL is `none_ttl` (never the value TTL), served to other nodes, expired by
//! Redis, and dropped by invalidations like any value — single node and Cluster.

use crate::common;

use std::time::Duration;

use cache_core::{Cache, CacheKey, Options};
use cache_redis::test_support::{RedisCluster, RedisServer};
use common::{Calls, cluster_tier, eventually, node, raw, remote_only, tier};

const WITHIN: Duration = Duration::from_secs(5);

fn opts(none_ttl: Duration) -> Options {
    Options::new()
        .ttl(Duration::from_secs(600))
        .stale(Duration::from_secs(600))
        .none_ttl(none_ttl)
}

async fn find(cache: &Cache, key: &CacheKey, opts: &Options, calls: &Calls) -> Option<String> {
    let load = || async {
        calls.hit();
        Ok::<Option<String>, String>(None)
    };
    cache.get_or_load_option(key, opts, load).await.unwrap()
}

async fn pttl(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query_async(conn).await.unwrap()
}

/// `a` caches a `None` that `b` is then served; its Redis TTL is at most `none_ttl` while a
/// found value's is the full lifetime; `b`'s invalidation reaches `a`.
async fn none_is_shared_with_its_own_ttl(
    a: &Cache,
    b: &Cache,
    conn: &mut redis::aio::MultiplexedConnection,
) {
    let none_ttl = Duration::from_secs(30);
    let (calls, missing) = (Calls::default(), CacheKey::new("user", &404));
    assert_eq!(find(a, &missing, &opts(none_ttl), &calls).await, None);
    let ttl = pttl(conn, &a.remote_key(&missing)).await;
    assert!(ttl > 0 && ttl <= 30_000, "the cached None has PTTL {ttl}");
    assert_eq!(find(b, &missing, &opts(none_ttl), &calls).await, None);
    assert_eq!(calls.get(), 1, "b was served a's None from Redis");
    assert_eq!(b.stats().remote_hits, 1);

    let found = CacheKey::new("user", &1);
    let ada = || async { Ok::<_, String>(Some("Ada".to_string())) };
    assert_eq!(
        a.get_or_load_option(&found, &opts(none_ttl), ada).await,
        Ok(Some("Ada".into()))
    );
    let ttl = pttl(conn, &a.remote_key(&found)).await;
    assert!(ttl > 30_000, "a found value keeps ttl + stale, PTTL {ttl}");

    b.invalidate(&missing).await;
    assert_eq!(
        pttl(conn, &a.remote_key(&missing)).await,
        -2,
        "the None is gone from Redis"
    );
    eventually(WITHIN, "a drops its local None", || async {
        find(a, &missing, &opts(none_ttl), &calls).await;
        calls.get() >= 2
    })
    .await;
    assert_eq!(a.stats().errors + b.stats().errors, 0);
}

#[tokio::test]
async fn a_cached_none_is_a_short_lived_redis_entry_shared_and_invalidated_across_nodes() {
    let server = RedisServer::start();
    let (a, b) = (
        node(&tier(&server.url()).await),
        node(&tier(&server.url()).await),
    );
    none_is_shared_with_its_own_ttl(&a, &b, &mut raw(&server.url()).await).await;
}

#[tokio::test]
async fn a_cached_none_expires_in_redis_after_none_ttl() {
    let server = RedisServer::start();
    let cache = remote_only(&tier(&server.url()).await);
    let opts = opts(Duration::from_millis(200));
    let (calls, key) = (Calls::default(), CacheKey::new("user", &404));
    assert_eq!(find(&cache, &key, &opts, &calls).await, None);
    eventually(
        WITHIN,
        "Redis expires the None and the loader runs again",
        || async {
            find(&cache, &key, &opts, &calls).await;
            calls.get() >= 2
        },
    )
    .await;
}

#[tokio::test]
async fn a_cached_none_on_a_cluster_is_shared_with_its_own_ttl() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let (a, b) = (
        node(&cluster_tier(&urls).await),
        node(&cluster_tier(&urls).await),
    );
    // A cluster-aware connection to read PTTLs whatever slot the keys hash to.
    let client = redis::cluster::ClusterClient::new(urls).unwrap();
    let mut conn = client.get_async_connection().await.unwrap();
    let none_ttl = Duration::from_secs(30);
    let (calls, missing) = (Calls::default(), CacheKey::new("user", &404));
    assert_eq!(find(&a, &missing, &opts(none_ttl), &calls).await, None);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(a.remote_key(&missing))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 30_000, "the cached None has PTTL {ttl}");
    assert_eq!(find(&b, &missing, &opts(none_ttl), &calls).await, None);
    assert_eq!(calls.get(), 1, "b was served a's None from the cluster");
    b.invalidate(&missing).await;
    eventually(WITHIN, "a drops its local None", || async {
        find(&a, &missing, &opts(none_ttl), &calls).await;
        calls.get() >= 2
    })
    .await;
}
