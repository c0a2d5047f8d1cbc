//! Small helpers every Redis integration test needs: a tier with a test-friendly timeout, a node
//! built on it, a raw connection to look at what was written, and a bounded wait.
//!
//! They live here rather than in each crate's `tests/` so cache-redis and cache-writeback share
//! one copy (a test crate cannot reach another crate's test modules).
//!
//! ```no_run
//! # async fn demo() {
//! use cache_redis::test_support::{RedisServer, fixtures};
//! let server = RedisServer::start();
//! let cache = fixtures::node(&fixtures::tier(&server.url()).await);
//! # let _ = cache;
//! # }
//! ```

use std::future::Future;
use std::time::{Duration, Instant};

use cache_core::{Cache, LocalTier};

use crate::{RedisTier, RedisTierBuilder};

/// A tier builder with a roomier timeout than the default: tests run many servers on two cores.
pub fn builder(url: &str) -> RedisTierBuilder {
    RedisTier::builder(url).command_timeout(Duration::from_secs(1))
}

/// A connected single-node tier (see [`builder`]); panics if the server does not answer.
pub async fn tier(url: &str) -> RedisTier {
    builder(url)
        .connect()
        .await
        .expect("connect to the test server")
}

/// A connected Cluster tier with the same timeout; panics if the cluster does not answer.
pub async fn cluster_tier(urls: &[String]) -> RedisTier {
    RedisTier::cluster_builder(urls)
        .command_timeout(Duration::from_secs(1))
        .connect()
        .await
        .expect("connect to the test cluster")
}

/// A node: a 16 MiB local tier in front of `tier`, namespace `t`.
pub fn node(tier: &RedisTier) -> Cache {
    Cache::builder()
        .namespace("t")
        .local(LocalTier::new(16 << 20))
        .remote(tier.clone())
        .build()
}

/// A node without a local tier: every lookup reaches Redis.
pub fn remote_only(tier: &RedisTier) -> Cache {
    Cache::builder()
        .namespace("t")
        .without_local()
        .remote(tier.clone())
        .build()
}

/// Polls `check` every 20 ms until it returns `true`; panics naming `what` after `within`.
/// Returns how long it took.
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

/// A plain async connection for looking at what the tier wrote.
pub async fn raw(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Every key on the server with its PTTL (`SCAN` + `PTTL`, so only for small test data sets).
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
