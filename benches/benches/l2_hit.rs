//! L2 hit: no local tier (`Cache::builder().without_local()`), every read answered by Redis (a
//! `redis-server` spawned on a free port of 127.0.0.1 for this run), against raw redis-rs on the
//! same kind of connection (one multiplexed connection) doing `GET` + rmp-serde decode of the
//! same bytes.
//!
//! * `l2_hit`: one `get_or_load` hit vs one raw `GET` + decode; also printed as a paired figure
//!   (medians of 20,000 alternating reads), which drift on a shared machine cannot skew.
//! * `l2_get_many`: `get_many` of 100 keys (one `MGET`) vs 100 sequential raw `GET`s (and a raw
//!   `MGET`, for reference).
//! * `l2_throughput`: 64 concurrent tasks (each on its own key, so nothing is coalesced) on a
//!   2-worker runtime, ours vs raw; then `redis-benchmark -t get -c 50 -n 200000 -q` on the same
//!   server, printed next to our requests per second.

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use benches::{Small, figure, per_sec};
use cache_redis::test_support::RedisServer;
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../shared/l2.rs"]
mod l2;
#[path = "../shared/remote.rs"]
mod remote;
use l2::{PAYLOAD, opts, ours_get, ours_tasks, raw_get, raw_tasks, seeded};

const TASKS: u64 = 64;
const THROUGHPUT_REQUESTS: u64 = 200_000;
const PAIRED_ROUNDS: usize = 20_000;

fn median(mut samples: Vec<u128>) -> u128 {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn get_calls(server: &RedisServer) -> u64 {
    let stats = server.query(&["INFO", "commandstats"]).unwrap_or_default();
    stats
        .split("cmdstat_get:calls=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// `redis-benchmark -t get -c 50 -n 200000 -q -p <port>`: its GET requests per second.
fn redis_benchmark(port: u16) -> f64 {
    let output = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-t", "get", "-c", "50", "-n", "200000", "-q"])
        .output()
        .expect("run redis-benchmark");
    assert!(output.status.success(), "redis-benchmark failed");
    let text = String::from_utf8_lossy(&output.stdout);
    // "GET: 98522.17 requests per second, p50=0.263 msec" (after \r progress lines).
    text.split(['\r', '\n'])
        .filter_map(|line| line.strip_prefix("GET: "))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .next_back()
        .unwrap_or_else(|| panic!("unexpected redis-benchmark output: {text}"))
}

fn l2_hit(c: &mut Criterion) {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (cache, mut conn) = rt.block_on(remote::connect(&server));
    let opts = opts();
    let (keys, remote_keys) = rt.block_on(seeded(&cache));
    let bytes = server
        .query(&["STRLEN", &remote_keys[0]])
        .unwrap_or_default();
    figure(
        "l2_hit",
        "envelope_bytes_small",
        bytes.trim_start_matches(':'),
    );

    let mut group = c.benchmark_group("l2_hit");
    group.bench_function("ours_get_or_load", |b| {
        b.to_async(&rt).iter(|| ours_get(&cache, &keys[0], &opts))
    });
    group.bench_function("raw_redis_get_decode", |b| {
        b.to_async(&rt).iter(|| {
            let mut conn = conn.clone();
            let key = &remote_keys[0];
            async move { raw_get(&mut conn, key).await }
        })
    });
    group.finish();

    // Paired: alternate one ours / one raw read, so drift on a shared machine hits both alike.
    let (ours_ns, raw_ns) = rt.block_on(async {
        let (mut ours_ns, mut raw_ns) = (Vec::new(), Vec::new());
        let mut conn = conn.clone();
        for _ in 0..PAIRED_ROUNDS {
            let started = Instant::now();
            black_box(ours_get(&cache, &keys[0], &opts).await);
            ours_ns.push(started.elapsed().as_nanos());
            let started = Instant::now();
            black_box(raw_get(&mut conn, &remote_keys[0]).await);
            raw_ns.push(started.elapsed().as_nanos());
        }
        (median(ours_ns), median(raw_ns))
    });
    figure(
        "l2_hit",
        "paired_median_ns",
        format!(
            "ours {ours_ns} / raw {raw_ns} = {:.3}x ({PAIRED_ROUNDS} alternating rounds)",
            ours_ns as f64 / raw_ns as f64
        ),
    );

    let mut group = c.benchmark_group("l2_get_many");
    group.bench_function("ours_get_many_100", |b| {
        b.to_async(&rt).iter(|| async {
            let got = cache.get_many::<Small>(&keys).await;
            assert!(got.iter().all(Option::is_some));
            got
        })
    });
    group.bench_function("raw_100_sequential_gets", |b| {
        b.to_async(&rt).iter(|| {
            let mut conn = conn.clone();
            let keys = &remote_keys;
            async move {
                let mut out = Vec::with_capacity(keys.len());
                for key in keys {
                    out.push(raw_get(&mut conn, key).await);
                }
                out
            }
        })
    });
    group.bench_function("raw_mget_100", |b| {
        b.to_async(&rt).iter(|| {
            let mut conn = conn.clone();
            let keys = &remote_keys;
            async move {
                let found: Vec<Vec<u8>> = redis::cmd("MGET")
                    .arg(keys)
                    .query_async(&mut conn)
                    .await
                    .expect("MGET");
                found
                    .iter()
                    .map(|bytes| rmp_serde::from_slice(&bytes[PAYLOAD..]).expect("decode"))
                    .collect::<Vec<Small>>()
            }
        })
    });
    group.finish();

    let task_keys = &keys[..TASKS as usize];
    let task_remote_keys = &remote_keys[..TASKS as usize];
    let mut group = c.benchmark_group("l2_throughput");
    group.sample_size(10);
    group.bench_function("ours_64_tasks", |b| {
        b.iter_custom(|iters| {
            let per_task = iters.div_ceil(TASKS);
            let took = rt.block_on(ours_tasks(&cache, task_keys, per_task));
            took.mul_f64(iters as f64 / (per_task * TASKS) as f64)
        })
    });
    group.bench_function("raw_redis_64_tasks", |b| {
        b.iter_custom(|iters| {
            let per_task = iters.div_ceil(TASKS);
            let took = rt.block_on(raw_tasks(&conn, task_remote_keys, per_task));
            took.mul_f64(iters as f64 / (per_task * TASKS) as f64)
        })
    });
    group.finish();

    // The same number of requests as redis-benchmark, right before and after it.
    let per_task = THROUGHPUT_REQUESTS / TASKS;
    let gets_before = get_calls(&server);
    let ours_before = rt.block_on(ours_tasks(&cache, task_keys, per_task));
    let gets_issued = get_calls(&server) - gets_before;
    let raw = rt.block_on(raw_tasks(&conn, task_remote_keys, per_task));
    let benchmark_rps = redis_benchmark(server.port());
    let ours_after = rt.block_on(ours_tasks(&cache, task_keys, per_task));
    let requests = per_task * TASKS;
    // The mean of the runs before and after redis-benchmark.
    let ours_rps = (per_sec(requests, ours_before) + per_sec(requests, ours_after)) / 2;
    figure(
        "l2_hit",
        "ours_64_tasks_rps",
        format!(
            "{ours_rps} (before {}, after {})",
            per_sec(requests, ours_before),
            per_sec(requests, ours_after)
        ),
    );
    figure(
        "l2_hit",
        "ours_64_tasks_redis_gets_per_request",
        format!("{:.3}", gets_issued as f64 / requests as f64),
    );
    figure("l2_hit", "raw_redis_64_tasks_rps", per_sec(requests, raw));
    figure(
        "l2_hit",
        "redis_benchmark_get_c50_rps",
        format!("{benchmark_rps:.0}"),
    );
    figure(
        "l2_hit",
        "ours_vs_redis_benchmark",
        format!("{:.2}x", ours_rps as f64 / benchmark_rps),
    );

    // Keep the raw connection alive until the end, then stop the server.
    rt.block_on(async { redis::cmd("PING").query_async::<String>(&mut conn).await })
        .expect("PING");
    drop(cache);
    drop(rt);
    drop(server);
}

criterion_group!(benches, l2_hit);
criterion_main!(benches);
