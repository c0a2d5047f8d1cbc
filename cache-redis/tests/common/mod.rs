//! Helpers shared by the Redis integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cache_core::{Cache, LocalTier};
use cache_redis::{RedisTier, RedisTierBuilder};

/// A tier with a roomier timeout than the default: tests run many servers on two cores.
pub fn builder(url: &str) -> RedisTierBuilder {
    RedisTier::builder(url).command_timeout(Duration::from_secs(1))
}

pub async fn tier(url: &str) -> RedisTier {
    builder(url)
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

/// A node without a local tier: every lookup reaches Redis.
pub fn remote_only(tier: &RedisTier) -> Cache {
    Cache::builder()
        .namespace("t")
        .without_local()
        .remote(tier.clone())
        .build()
}

/// Counts loader calls.
#[derive(Clone, Default)]
pub struct Calls(Arc<AtomicUsize>);

impl Calls {
    pub fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Polls `check` every 20 ms until it returns `true`; panics after `within`.
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

/// `calls` of one command in `INFO commandstats` text (0 if never called).
pub fn calls(commandstats: &str, command: &str) -> u64 {
    let prefix = format!("cmdstat_{command}:calls=");
    commandstats
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
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

/// `VmRSS` and `VmHWM` (resident set size now and its peak) in KiB, from `/proc/self/status`.
pub fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
