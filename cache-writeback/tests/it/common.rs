//! Helpers shared by the write-back tests (the cache-redis tests have their own copy: a test
//! crate cannot reach another crate's test helpers).

use std::future::Future;
use std::time::{Duration, Instant};

use cache_core::{Cache, LocalTier};
use cache_redis::RedisTier;

/// A tier with a roomier timeout than the default: tests run many servers on two cores.
pub async fn tier(url: &str) -> RedisTier {
    RedisTier::builder(url)
        .command_timeout(Duration::from_secs(1))
        .connect()
        .await
        .expect("connect to the test server")
}

pub async fn cluster_tier(urls: &[String]) -> RedisTier {
    RedisTier::cluster_builder(urls)
        .command_timeout(Duration::from_secs(1))
        .connect()
        .await
        .expect("connect to the test cluster")
}

/// A node: local tier plus the Redis tier.
pub fn node(tier: &RedisTier) -> Cache {
    Cache::builder()
        .namespace("t")
        .local(LocalTier::new(16 << 20))
        .remote(tier.clone())
        .build()
}

/// Waits until `check` holds, failing the test after `within`; returns how long it took.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A plain async connection for looking at what the write-back wrote.
pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Every key on the server with its PTTL.
pub async fn keys_with_ttl(conn: &mut redis::aio::MultiplexedConnection) -> Vec<(String, i64)> {
    let mut cursor = 0_u64;
    let mut out = Vec::new();
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap();
        for key in keys {
            let ttl: i64 = redis::cmd("PTTL")
                .arg(&key)
                .query_async(conn)
                .await
                .unwrap();
            out.push((key, ttl));
        }
        if next == 0 {
            return out;
        }
        cursor = next;
    }
}
