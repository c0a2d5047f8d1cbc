//! Contention: 2 threads hitting the same caches at once.
//!
//! * `contention_hot`: both threads read 8 hot keys (all cached): pure hit throughput.
//! * `contention_zipf`: keys drawn from a Zipf(1.0) distribution over 100,000 keys, all cached,
//!   except that 5 % of the requests go to a *cold* copy of the key space (the same Zipf draw in
//!   another key range, fresh for every measurement batch), whose loader sleeps 1 ms. Popular
//!   cold keys are asked by both threads while their load runs, so a cache without per-key
//!   single-flight loads them twice; unpopular ones are plain misses.
//!
//! Contenders: our `#[cached]` sync fn (local tier; no request scope in plain threads), the
//! `cached` crate's `#[cached]` without `sync_writes`, with `sync_writes = "default"` (the whole
//! cache locked during a load) and with `sync_writes = "by_key"`, and moka's `get_with`.
//!
//! Criterion's time is per request (both threads together). Printed figures: hits/s (requests
//! that did not run the loader, per second of wall time) and loader calls per unique cold key
//! asked (1.00 means every key was loaded exactly once). The hot case is also measured paired
//! (30 rounds of every contender in turn, median hits/s), which drift cannot skew.

use std::collections::HashSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Barrier, LazyLock};
use std::time::{Duration, Instant};

use benches::{Rng, Small, Zipf, figure, per_sec};
use cache_core::cached;
use cached::macros::cached as memo;
use criterion::{Criterion, criterion_group, criterion_main};

const KEYS: u64 = 100_000;
const COLD: u64 = 1 << 40;
const COLD_SHARE: f64 = 0.05;
const THREADS: usize = 2;
const HOT_KEYS: u64 = 8;
const SAMPLES_PER_THREAD: usize = 1 << 18;
const PAIRED_ROUNDS: usize = 30;
const PAIRED_REQUESTS: usize = 20_000;

/// The loader every contender calls: cold keys take 1 ms, warm keys (pre-loading) none.
fn load(key: u64, calls: &AtomicU64) -> Small {
    calls.fetch_add(1, Relaxed);
    if key >= COLD {
        std::thread::sleep(Duration::from_millis(1));
    }
    Small {
        name: format!("Store {key}"),
        city: "Seoul".into(),
    }
}

static OURS_CALLS: AtomicU64 = AtomicU64::new(0);
static CACHED_CALLS: AtomicU64 = AtomicU64::new(0);
static CACHED_SYNC_CALLS: AtomicU64 = AtomicU64::new(0);
static CACHED_BY_KEY_CALLS: AtomicU64 = AtomicU64::new(0);
static MOKA_CALLS: AtomicU64 = AtomicU64::new(0);

#[cached(name = "contention", ttl = "1h", early_refresh = false)]
fn ours(key: u64) -> Small {
    load(key, &OURS_CALLS)
}

#[memo(max_size = 1_000_000, ttl_secs = 3600)]
fn theirs(key: u64) -> Small {
    load(key, &CACHED_CALLS)
}

#[memo(max_size = 1_000_000, ttl_secs = 3600, sync_writes = "default")]
fn theirs_sync_writes(key: u64) -> Small {
    load(key, &CACHED_SYNC_CALLS)
}

#[memo(max_size = 1_000_000, ttl_secs = 3600, sync_writes = "by_key")]
fn theirs_by_key(key: u64) -> Small {
    load(key, &CACHED_BY_KEY_CALLS)
}

static MOKA: LazyLock<moka::sync::Cache<u64, Arc<Small>>> = LazyLock::new(|| {
    moka::sync::Cache::builder()
        .max_capacity(1_000_000)
        .time_to_live(Duration::from_secs(3600))
        .build()
});

fn moka_get_with(key: u64) -> Small {
    Small::clone(&MOKA.get_with(key, || Arc::new(load(key, &MOKA_CALLS))))
}

struct Contender {
    name: &'static str,
    call: fn(u64) -> Small,
    calls: &'static AtomicU64,
}

const CONTENDERS: [Contender; 5] = [
    Contender {
        name: "ours_macro_sync",
        call: ours,
        calls: &OURS_CALLS,
    },
    Contender {
        name: "cached_crate",
        call: theirs,
        calls: &CACHED_CALLS,
    },
    Contender {
        name: "cached_crate_sync_writes_default",
        call: theirs_sync_writes,
        calls: &CACHED_SYNC_CALLS,
    },
    Contender {
        name: "cached_crate_sync_writes_by_key",
        call: theirs_by_key,
        calls: &CACHED_BY_KEY_CALLS,
    },
    Contender {
        name: "moka_sync_get_with",
        call: moka_get_with,
        calls: &MOKA_CALLS,
    },
];

/// One request: a rank and whether it goes to the cold copy of the key space.
#[derive(Clone, Copy)]
struct Request {
    cold: bool,
    rank: u64,
}

/// Totals over every batch criterion ran (warm-up included).
#[derive(Default)]
struct Totals {
    requests: u64,
    loads: u64,
    unique_cold: u64,
    elapsed: Duration,
}

/// Runs `per_thread` requests on each thread, starting at `offset` in its sample list;
/// returns the wall time from the common start to the last thread's end.
fn run_threads(
    samples: &[Vec<Request>],
    offset: usize,
    per_thread: usize,
    key_of: &(dyn Fn(Request) -> u64 + Sync),
    call: fn(u64) -> Small,
) -> Duration {
    let barrier = Barrier::new(THREADS);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|scope| {
        let handles: Vec<_> = samples
            .iter()
            .map(|list| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let started = Instant::now();
                    for i in 0..per_thread {
                        let request = list[(offset + i) % list.len()];
                        black_box(call(black_box(key_of(request))));
                    }
                    (started, Instant::now())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect()
    });
    let start = spans.iter().map(|s| s.0).min().expect("threads");
    let end = spans.iter().map(|s| s.1).max().expect("threads");
    end - start
}

fn contention(c: &mut Criterion) {
    // Every warm key is in every cache before anything is measured.
    for contender in &CONTENDERS {
        for key in 0..KEYS {
            (contender.call)(key);
        }
    }

    let hot: Vec<Vec<Request>> = (0..THREADS as u64)
        .map(|t| {
            (0..SAMPLES_PER_THREAD as u64)
                .map(|i| Request {
                    cold: false,
                    rank: (i + t) % HOT_KEYS,
                })
                .collect()
        })
        .collect();
    let mut group = c.benchmark_group("contention_hot");
    for contender in &CONTENDERS {
        let mut totals = Totals::default();
        let mut offset = 0;
        group.bench_function(contender.name, |b| {
            b.iter_custom(|iters| {
                let per_thread = (iters as usize).div_ceil(THREADS);
                let before = contender.calls.load(Relaxed);
                let took = run_threads(&hot, offset, per_thread, &|r| r.rank, contender.call);
                offset = (offset + per_thread) % SAMPLES_PER_THREAD;
                totals.requests += (per_thread * THREADS) as u64;
                totals.loads += contender.calls.load(Relaxed) - before;
                totals.elapsed += took;
                took.mul_f64(iters as f64 / (per_thread * THREADS) as f64)
            })
        });
        if totals.requests == 0 {
            continue; // filtered out on the command line
        }
        let hits = totals.requests - totals.loads;
        figure(
            "contention",
            &format!("hot/{}/hits_per_sec", contender.name),
            per_sec(hits, totals.elapsed),
        );
        figure(
            "contention",
            &format!("hot/{}/loads", contender.name),
            totals.loads,
        );
    }
    group.finish();

    // Paired: rounds of every contender in turn (2 threads, PAIRED_REQUESTS each), so drift on a
    // shared machine hits all of them alike; median hits/s per contender.
    let mut rates: Vec<Vec<u64>> = vec![Vec::new(); CONTENDERS.len()];
    for round in 0..PAIRED_ROUNDS {
        for (contender, rates) in CONTENDERS.iter().zip(&mut rates) {
            let offset = round * PAIRED_REQUESTS % SAMPLES_PER_THREAD;
            let took = run_threads(&hot, offset, PAIRED_REQUESTS, &|r| r.rank, contender.call);
            rates.push(per_sec((PAIRED_REQUESTS * THREADS) as u64, took));
        }
    }
    let medians: Vec<u64> = rates
        .into_iter()
        .map(|mut r| {
            r.sort_unstable();
            r[r.len() / 2]
        })
        .collect();
    for (contender, median) in CONTENDERS.iter().zip(&medians) {
        figure(
            "contention",
            &format!("hot/{}/paired_median_hits_per_sec", contender.name),
            median,
        );
    }
    figure(
        "contention",
        "hot/paired_ours_vs_cached_crate",
        format!("{:.3}x", medians[0] as f64 / medians[1] as f64),
    );

    let zipf = Zipf::new(KEYS as usize, 1.0);
    let skewed: Vec<Vec<Request>> = (0..THREADS as u64)
        .map(|t| {
            let mut rng = Rng(0x21FF_0000 + t);
            (0..SAMPLES_PER_THREAD)
                .map(|_| Request {
                    cold: rng.unit() < COLD_SHARE,
                    rank: zipf.sample(&mut rng),
                })
                .collect()
        })
        .collect();
    let mut group = c.benchmark_group("contention_zipf");
    group.sample_size(10);
    // Each batch gets cold keys of its own, so every batch starts with its cold set uncached.
    let generation = AtomicU64::new(0);
    for contender in &CONTENDERS {
        let mut totals = Totals::default();
        let mut offset = 0;
        group.bench_function(contender.name, |b| {
            b.iter_custom(|iters| {
                let per_thread = (iters as usize).div_ceil(THREADS);
                let base = COLD + generation.fetch_add(1, Relaxed) * 2 * KEYS;
                let key_of = move |r: Request| if r.cold { base + r.rank } else { r.rank };
                let before = contender.calls.load(Relaxed);
                let took = run_threads(&skewed, offset, per_thread, &key_of, contender.call);
                let unique: HashSet<u64> = skewed
                    .iter()
                    .flat_map(|list| (0..per_thread).map(move |i| list[(offset + i) % list.len()]))
                    .filter(|r| r.cold)
                    .map(|r| r.rank)
                    .collect();
                offset = (offset + per_thread) % SAMPLES_PER_THREAD;
                totals.requests += (per_thread * THREADS) as u64;
                totals.loads += contender.calls.load(Relaxed) - before;
                totals.unique_cold += unique.len() as u64;
                totals.elapsed += took;
                took.mul_f64(iters as f64 / (per_thread * THREADS) as f64)
            })
        });
        if totals.requests == 0 {
            continue; // filtered out on the command line
        }
        let hits = totals.requests - totals.loads;
        let name = contender.name;
        figure(
            "contention",
            &format!("zipf/{name}/hits_per_sec"),
            per_sec(hits, totals.elapsed),
        );
        figure(
            "contention",
            &format!("zipf/{name}/loads_per_unique_key"),
            format!(
                "{:.3} ({} loads / {} unique cold keys, {} requests)",
                totals.loads as f64 / totals.unique_cold.max(1) as f64,
                totals.loads,
                totals.unique_cold,
                totals.requests
            ),
        );
    }
    group.finish();
}

criterion_group!(benches, contention);
criterion_main!(benches);
