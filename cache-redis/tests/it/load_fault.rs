//! Load + fault: 30 s of bounded load on an engine with a small local tier and Redis; Redis is
//! killed at 10 s and restarted (empty) at 20 s. No request fails, and the L2 hit rate is
//! back at ≥ 90 % within 2 s of the restart.
//!
//! Ignored by default (30 s); `.ci/run` runs it with
//! `cargo test -p cache-redis --test it load_fault -- --ignored`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cache_core::{Cache, CacheKey, LocalTier, Options, StatsSnapshot};
use cache_redis::RedisTier;
use cache_redis::test_support::RedisServer;

const KEYS: u64 = 2_000;
const WORKERS: usize = 8;
const RUN: Duration = Duration::from_secs(30);
const KILL_AT: Duration = Duration::from_secs(10);
const RESTART_AT: Duration = Duration::from_secs(20);
const WINDOW: Duration = Duration::from_millis(250);

fn value(key: u64) -> String {
    format!("{key:>8}:").repeat(50)
}

/// L2 hit rate between two snapshots: remote hits over lookups that reached the remote tier.
fn l2_rate(from: &StatsSnapshot, to: &StatsSnapshot) -> f64 {
    let hits = to.remote_hits - from.remote_hits;
    let misses = to.misses - from.misses;
    if hits + misses == 0 {
        return 0.0;
    }
    hits as f64 / (hits + misses) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs 30 s; .ci/run runs it explicitly"]
async fn thirty_seconds_of_load_through_a_redis_outage() {
    let server = Arc::new(RedisServer::start());
    let tier = RedisTier::builder(&server.url())
        .breaker_cooldown(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    // A local tier far smaller than the working set, so most reads reach Redis.
    let cache = Cache::builder()
        .namespace("load")
        .local(LocalTier::new(128 << 10))
        .remote(tier.clone())
        .build();
    let opts = Options::new().ttl(Duration::from_secs(300));
    let started = Instant::now();
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (cache, opts, ok, failed) =
                (cache.clone(), opts.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                while started.elapsed() < RUN {
                    let k = fastrand::u64(..KEYS);
                    let got: Result<String, ()> = cache
                        .get_or_load(&CacheKey::new("item", &k), &opts, || async move {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            Ok(value(k))
                        })
                        .await;
                    let counter = if got == Ok(value(k)) { &ok } else { &failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let sampler = {
        let cache = cache.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while started.elapsed() < RUN {
                samples.push((started.elapsed(), cache.stats()));
                tokio::time::sleep(WINDOW).await;
            }
            samples
        })
    };
    tokio::time::sleep(KILL_AT.saturating_sub(started.elapsed())).await;
    let s = server.clone();
    tokio::task::spawn_blocking(move || s.kill()).await.unwrap();
    let killed = started.elapsed();
    tokio::time::sleep(RESTART_AT.saturating_sub(started.elapsed())).await;
    let s = server.clone();
    tokio::task::spawn_blocking(move || s.restart())
        .await
        .unwrap();
    let restarted = started.elapsed();
    for worker in workers {
        worker.await.unwrap();
    }
    let samples = sampler.await.unwrap();

    let rate_between = |from: Duration, to: Duration| {
        let first = samples.iter().find(|(t, _)| *t >= from).unwrap();
        let last = samples.iter().rev().find(|(t, _)| *t <= to).unwrap();
        l2_rate(&first.1, &last.1)
    };
    let before = rate_between(Duration::from_secs(5), killed);
    let during = rate_between(killed + WINDOW, RESTART_AT);
    // The end of the first window after the restart whose L2 hit rate is ≥ 90 %.
    let recovered = samples
        .windows(2)
        .filter(|w| w[0].0 >= restarted)
        .find(|w| l2_rate(&w[0].1, &w[1].1) >= 0.9)
        .map(|w| w[1].0 - restarted);
    let after = rate_between(restarted + Duration::from_secs(3), RUN);
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    println!(
        "{ok} requests, {failed} failed; L2 hit rate {:.1} % before the kill, {:.1} % while \
         down, {:.1} % from 3 s after the restart; ≥ 90 % again {recovered:?} after the \
         restart (killed at {killed:?}, restarted at {restarted:?}); {:?}",
        before * 100.0,
        during * 100.0,
        after * 100.0,
        tier.stats(),
    );
    assert_eq!(failed, 0, "no request failed");
    assert!(ok > 10_000, "the load kept going ({ok} requests)");
    assert!(before >= 0.9, "warm L2 hit rate {before}");
    assert!(during < 0.1, "Redis was down: {during}");
    let recovered = recovered.expect("the L2 hit rate recovered");
    assert!(
        recovered <= Duration::from_secs(2),
        "recovered after {recovered:?}"
    );
    assert!(after >= 0.9, "and stayed up: {after}");
}
