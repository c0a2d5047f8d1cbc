//! The OpenTelemetry instruments report exactly what a scripted sequence of calls did.
#![cfg(feature = "prometheus")]

use std::time::Duration;

use cache_core::metrics::prometheus::PrometheusMetrics;
use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, CacheKey, Flags, LocalTier, Options, request_scope};

/// The value of the one series of `metric` whose labels include every `label="value"` pair.
fn value(text: &str, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<f64> = text
        .lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    match matching.as_slice() {
        [] => 0.0,
        [one] => *one,
        more => panic!("{} series match {metric} {labels:?}: {more:?}", more.len()),
    }
}

fn requests(text: &str, tier: &str, result: &str) -> f64 {
    value(
        text,
        "cache_requests_total",
        &[
            ("cache_name", "users"),
            ("cache_tier", tier),
            ("cache_result", result),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_sequence_is_reported_exactly() {
    let metrics = PrometheusMetrics::new().unwrap();
    let remote = MemoryRemote::new();
    let cache = Cache::builder()
        .namespace("m")
        .local(LocalTier::new(1 << 20))
        .remote(remote.clone())
        .flags(Flags::parse("legacy=off, users=on").unwrap())
        .meter(metrics.meter())
        .build();
    let opts = Options::new()
        .ttl(Duration::from_secs(60))
        .early_refresh(false);
    let load = |v: u32| move || async move { Ok::<u32, String>(v) };

    // 1. Cold: local miss, remote miss, one load, one entry written.
    let _ = cache
        .get_or_load(&CacheKey::new("users", &1), &opts, load(1))
        .await;
    // 2. Warm, inside a request scope twice: request miss + local hit, then request hit.
    request_scope(async {
        let _ = cache
            .get_or_load(&CacheKey::new("users", &1), &opts, load(0))
            .await;
        let _ = cache
            .get_or_load(&CacheKey::new("users", &1), &opts, load(0))
            .await;
    })
    .await;
    // 3. Another node's value: local miss, remote hit.
    let other = Cache::builder()
        .namespace("m")
        .remote(remote.node())
        .build();
    other.set(&CacheKey::new("users", &2), &2_u32, &opts).await;
    let _ = cache
        .get_or_load(&CacheKey::new("users", &2), &opts, load(0))
        .await;
    // 4. A flag that is off: one bypass.
    let _ = cache
        .get_or_load(&CacheKey::new("legacy", &1), &opts, load(3))
        .await;
    // 5. Stale: written with a 10 ms TTL, read after 30 ms → local stale, refreshed.
    let short = opts
        .clone()
        .ttl(Duration::from_millis(10))
        .stale(Duration::from_secs(60))
        .jitter(0.0);
    let _ = cache
        .get_or_load(&CacheKey::new("users", &3), &short, load(3))
        .await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let _ = cache
        .get_or_load(&CacheKey::new("users", &3), &short, load(4))
        .await;
    // 6. Remote down: local miss, remote error (get); with the remote state unknown there is no
    //    lease to fence a write with, so no lease or set is tried.
    remote.set_failing(true);
    let _ = cache
        .get_or_load(&CacheKey::new("users", &4), &opts, load(5))
        .await;
    remote.set_failing(false);
    // 7. Ten concurrent cold callers: nine coalesced.
    let callers: Vec<_> = (0..10)
        .map(|_| {
            let (cache, opts) = (cache.clone(), opts.clone());
            tokio::spawn(async move {
                cache
                    .get_or_load(&CacheKey::new("users", &5), &opts, || async {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<u32, String>(6)
                    })
                    .await
            })
        })
        .collect();
    for c in callers {
        c.await.unwrap().unwrap();
    }

    let text = metrics.render();
    // Local lookups: misses in 1, 3, 5 (first write), 6 and the 10 callers of 7; hits in 2 and
    // the callers of 7 that arrived after the flight had finished (none: all joined the flight).
    assert_eq!(requests(&text, "local", "miss"), 4.0 + 10.0);
    assert_eq!(requests(&text, "local", "hit"), 1.0);
    assert_eq!(requests(&text, "local", "stale"), 1.0);
    assert_eq!(requests(&text, "request", "miss"), 1.0);
    assert_eq!(requests(&text, "request", "hit"), 1.0);
    assert_eq!(requests(&text, "remote", "hit"), 1.0);
    // Remote misses: 1, the first write of 5, and the leader of 7.
    assert_eq!(requests(&text, "remote", "miss"), 3.0);
    assert_eq!(requests(&text, "remote", "error"), 1.0);
    let bypass = [
        ("cache_name", "legacy"),
        ("cache_tier", "none"),
        ("cache_result", "bypass"),
    ];
    assert_eq!(value(&text, "cache_requests_total", &bypass), 1.0);
    // Loads: 1, 5 (twice: first write and refresh), 6, 7's leader. The bypassed call is not a
    // cache load.
    let users = [("cache_name", "users")];
    assert_eq!(
        value(&text, "cache_load_duration_seconds_count", &users),
        5.0
    );
    assert_eq!(value(&text, "cache_coalesced_total", &users), 9.0);
    assert_eq!(value(&text, "cache_entry_size_bytes_count", &users), 5.0);
    let remote_errors = [("cache_tier", "remote"), ("error_type", "remote")];
    assert_eq!(value(&text, "cache_errors_total", &remote_errors), 1.0);
    // Remote GETs: 1, 3, the first write of 5, 6 (failed, still timed) and 7's leader.
    let get_ops = [("cache_tier", "remote"), ("operation", "get")];
    assert_eq!(
        value(&text, "cache_tier_duration_seconds_count", &get_ops),
        5.0
    );
    let legacy_flag = [("cache_name", "legacy"), ("mode", "off")];
    assert_eq!(value(&text, "cache_flag_mode", &legacy_flag), 0.0);
    let users_flag = [("cache_name", "users"), ("mode", "on")];
    assert_eq!(value(&text, "cache_flag_mode", &users_flag), 100.0);
    assert!(text.contains("cache_local_entries{"));
    assert!(text.contains("cache_local_bytes{"));
}

#[tokio::test]
async fn shadow_outcomes_are_counted_by_name() {
    let metrics = PrometheusMetrics::new().unwrap();
    let cache = Cache::builder()
        .flags(Flags::parse("users=shadow").unwrap())
        .meter(metrics.meter())
        .build();
    let key = CacheKey::new("users", &1);
    for v in [1_u32, 1, 2, 2] {
        let _ = cache
            .get_or_load(&key, &Options::new(), || async move { Ok::<u32, ()>(v) })
            .await;
    }
    let text = metrics.render();
    let outcome = |o| {
        value(
            &text,
            "cache_shadow_total",
            &[("cache_name", "users"), ("outcome", o)],
        )
    };
    // First call populates; then 1 == 1 (match), 2 != 1 (mismatch), 2 != 1 (mismatch).
    assert_eq!((outcome("match"), outcome("mismatch")), (1.0, 2.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_hits_are_exported_one_for_one() {
    const TASKS: u64 = 8;
    const HITS_PER_TASK: u64 = 5_000;
    let metrics = PrometheusMetrics::new().unwrap();
    let cache = Cache::builder()
        .local(LocalTier::new(1 << 20))
        .meter(metrics.meter())
        .build();
    let opts = Options::new()
        .ttl(Duration::from_secs(3600))
        .early_refresh(false);
    let key = CacheKey::new("hot", &1);
    let _ = cache
        .get_or_load(&key, &opts, || async { Ok::<u32, ()>(1) })
        .await;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (cache, opts, key) = (cache.clone(), opts.clone(), key.clone());
            tokio::spawn(async move {
                for _ in 0..HITS_PER_TASK {
                    let got = cache
                        .get_or_load(&key, &opts, || async { Ok::<u32, ()>(2) })
                        .await;
                    assert_eq!(got, Ok(1));
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }

    let text = metrics.render();
    let hot = |tier, result| {
        value(
            &text,
            "cache_requests_total",
            &[
                ("cache_name", "hot"),
                ("cache_tier", tier),
                ("cache_result", result),
            ],
        )
    };
    assert_eq!(hot("local", "hit"), (TASKS * HITS_PER_TASK) as f64);
    assert_eq!(hot("local", "miss"), 1.0);
    assert_eq!(cache.stats().local_hits, TASKS * HITS_PER_TASK);
    assert_eq!(cache.stats().misses, 1);
    // Pairs never counted are not exported at all, as with a synchronous counter.
    assert!(!text.contains("cache_result=\"stale\""));
}

#[tokio::test]
async fn caches_on_one_thread_report_to_their_own_meters() {
    let (first, second) = (
        PrometheusMetrics::new().unwrap(),
        PrometheusMetrics::new().unwrap(),
    );
    let build = |m: &PrometheusMetrics| {
        Cache::builder()
            .local(LocalTier::new(1 << 20))
            .meter(m.meter())
            .build()
    };
    let (a, b) = (build(&first), build(&second));
    let opts = Options::new().ttl(Duration::from_secs(3600));
    // Alternate between the caches (and two names) on one thread: 3 calls to `a`, 5 to `b`.
    for round in 0..5 {
        for name in ["users", "posts"] {
            let key = CacheKey::new(name, &1);
            if round < 3 {
                let _ = a
                    .get_or_load(&key, &opts, || async { Ok::<u8, ()>(1) })
                    .await;
            }
            let _ = b
                .get_or_load(&key, &opts, || async { Ok::<u8, ()>(1) })
                .await;
        }
    }
    for (metrics, calls) in [(&first, 3.0), (&second, 5.0)] {
        let text = metrics.render();
        for name in ["users", "posts"] {
            let count = |result| {
                value(
                    &text,
                    "cache_requests_total",
                    &[
                        ("cache_name", name),
                        ("cache_tier", "local"),
                        ("cache_result", result),
                    ],
                )
            };
            assert_eq!((count("miss"), count("hit")), (1.0, calls - 1.0), "{name}");
        }
    }
}
