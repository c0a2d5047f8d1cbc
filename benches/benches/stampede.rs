//! Stampede: 10,000 concurrent callers (tasks on a 2-worker runtime, released together) ask for
//! one cold key whose loader takes 20 ms. Criterion's time is the time to serve all 10,000;
//! the loader calls per stampede are printed (ours must be 1).
//!
//! Contenders: our `#[cached]` async fn; the `cached` crate's `#[cached]` with
//! `sync_writes = "default"` (whole cache locked during the load), `sync_writes = "by_key"`, and
//! without `sync_writes`; a naive moka `get` / `insert`; and moka's coalescing `get_with`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use benches::{Small, figure, small};
use cache_core::cached;
use cached::macros::cached as memo;
use criterion::{Criterion, criterion_group, criterion_main};

const CALLERS: usize = 10_000;
const LOAD_TIME: Duration = Duration::from_millis(20);

async fn load(calls: &AtomicU64) -> Small {
    calls.fetch_add(1, Relaxed);
    tokio::time::sleep(LOAD_TIME).await;
    small()
}

static CALLS_OURS: AtomicU64 = AtomicU64::new(0);
static CALLS_DEFAULT: AtomicU64 = AtomicU64::new(0);
static CALLS_BY_KEY: AtomicU64 = AtomicU64::new(0);
static CALLS_NONE: AtomicU64 = AtomicU64::new(0);
static CALLS_MOKA_NAIVE: AtomicU64 = AtomicU64::new(0);
static CALLS_MOKA_GET_WITH: AtomicU64 = AtomicU64::new(0);

#[cached(name = "stampede", ttl = "1h", early_refresh = false)]
async fn ours(generation: u64) -> Small {
    let _ = generation;
    load(&CALLS_OURS).await
}

#[memo(max_size = 100_000, ttl_secs = 3600, sync_writes = "default")]
async fn cached_default(generation: u64) -> Small {
    let _ = generation;
    load(&CALLS_DEFAULT).await
}

#[memo(max_size = 100_000, ttl_secs = 3600, sync_writes = "by_key")]
async fn cached_by_key(generation: u64) -> Small {
    let _ = generation;
    load(&CALLS_BY_KEY).await
}

#[memo(max_size = 100_000, ttl_secs = 3600)]
async fn cached_none(generation: u64) -> Small {
    let _ = generation;
    load(&CALLS_NONE).await
}

static MOKA: LazyLock<moka::future::Cache<u64, Arc<Small>>> =
    LazyLock::new(|| moka::future::Cache::new(100_000));

/// What a user writes by hand without thinking about stampedes.
async fn moka_naive(generation: u64) -> Small {
    if let Some(value) = MOKA.get(&generation).await {
        return Small::clone(&value);
    }
    let value = load(&CALLS_MOKA_NAIVE).await;
    MOKA.insert(generation, Arc::new(value.clone())).await;
    value
}

async fn moka_get_with(generation: u64) -> Small {
    let value = MOKA
        .get_with(generation, async {
            Arc::new(load(&CALLS_MOKA_GET_WITH).await)
        })
        .await;
    Small::clone(&value)
}

type Caller = fn(u64) -> std::pin::Pin<Box<dyn Future<Output = Small> + Send>>;

struct Contender {
    name: &'static str,
    call: Caller,
    calls: &'static AtomicU64,
}

const CONTENDERS: [Contender; 6] = [
    Contender {
        name: "ours_macro_async",
        call: |g| Box::pin(ours(g)),
        calls: &CALLS_OURS,
    },
    Contender {
        name: "cached_crate_sync_writes_default",
        call: |g| Box::pin(cached_default(g)),
        calls: &CALLS_DEFAULT,
    },
    Contender {
        name: "cached_crate_sync_writes_by_key",
        call: |g| Box::pin(cached_by_key(g)),
        calls: &CALLS_BY_KEY,
    },
    Contender {
        name: "cached_crate_no_sync_writes",
        call: |g| Box::pin(cached_none(g)),
        calls: &CALLS_NONE,
    },
    Contender {
        name: "moka_naive_get_insert",
        call: |g| Box::pin(moka_naive(g)),
        calls: &CALLS_MOKA_NAIVE,
    },
    Contender {
        name: "moka_get_with",
        call: |g| Box::pin(moka_get_with(g)),
        calls: &CALLS_MOKA_GET_WITH,
    },
];

/// One stampede on the cold key `generation`: the time from releasing the callers until the
/// last one has its value.
async fn stampede(call: Caller, generation: u64) -> Duration {
    let (go, ready) = tokio::sync::watch::channel(false);
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let mut ready = ready.clone();
            tokio::spawn(async move {
                let _ = ready.wait_for(|go| *go).await;
                call(generation).await
            })
        })
        .collect();
    // Let every task reach the gate.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let started = Instant::now();
    go.send_replace(true);
    for task in tasks {
        task.await.expect("caller");
    }
    started.elapsed()
}

fn stampedes(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("stampede");
    group.sample_size(10);
    let mut generation = 0_u64;
    for contender in &CONTENDERS {
        let (mut runs, mut calls, mut worst, mut served) = (0_u64, 0_u64, 0_u64, Duration::ZERO);
        group.bench_function(contender.name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    generation += 1;
                    let before = contender.calls.load(Relaxed);
                    let took = rt.block_on(stampede(contender.call, generation));
                    let made = contender.calls.load(Relaxed) - before;
                    total += took;
                    served += took;
                    runs += 1;
                    calls += made;
                    worst = worst.max(made);
                }
                total
            })
        });
        if runs == 0 {
            continue; // filtered out on the command line
        }
        let name = contender.name;
        figure(
            "stampede",
            &format!("{name}/loader_calls_per_stampede"),
            format!(
                "{:.2} (max {worst}, {runs} stampedes)",
                calls as f64 / runs as f64
            ),
        );
        figure(
            "stampede",
            &format!("{name}/mean_time_to_serve_all_ms"),
            format!("{:.1}", served.as_secs_f64() * 1e3 / runs as f64),
        );
    }
    group.finish();
}

criterion_group!(benches, stampedes);
criterion_main!(benches);
