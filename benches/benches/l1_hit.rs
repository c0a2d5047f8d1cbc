//! L1 hit: a `#[cached]` function answered by the local tier, against what a user writes by hand
//! (raw moka: `get` of an `Arc`, cloned out) and against the `cached` crate's `#[cached]`, for a
//! small struct (two Strings) and a 2 KiB struct. Also: the engine call without the macro, sync
//! functions, and hits in the request tier (inside `cache_core::request_scope`).
//!
//! Every case returns an owned value (`T`, not `Arc<T>`), as the functions do; the
//! `raw_moka_future_get_arc` case shows what the clone of `T` costs on top of the lookup.
//! The async targets are also printed as paired figures: 300 rounds of 1,000 calls of each
//! contender in turn, medians compared, so drift on a shared machine cannot skew the ratio.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::{Big, Small, big, figure, small};
use cache_core::{Cache, CacheKey, Options, cached, request_scope};
use cached::macros::cached as memo;
use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};

/// `#[cached]` async, the global cache, key built per call from the argument.
#[cached(name = "bench_small_async", ttl = "1h", early_refresh = false)]
async fn ours_small_async(id: i64) -> Small {
    let _ = id;
    small()
}

#[cached(name = "bench_big_async", ttl = "1h", early_refresh = false)]
async fn ours_big_async(id: i64) -> Big {
    let _ = id;
    big()
}

/// The sync flavour: `Cache::get_or_load_sync` over the request and local tiers.
#[cached(name = "bench_small_sync", ttl = "1h", early_refresh = false)]
fn ours_small_sync(id: i64) -> Small {
    let _ = id;
    small()
}

#[cached(name = "bench_big_sync", ttl = "1h", early_refresh = false)]
fn ours_big_sync(id: i64) -> Big {
    let _ = id;
    big()
}

// The `cached` crate, bounded and with a TTL like ours (`TimedSizedCache` behind an RwLock).
#[memo(max_size = 10_000, ttl_secs = 3600)]
async fn theirs_small_async(id: i64) -> Small {
    let _ = id;
    small()
}

#[memo(max_size = 10_000, ttl_secs = 3600)]
async fn theirs_big_async(id: i64) -> Big {
    let _ = id;
    big()
}

#[memo(max_size = 10_000, ttl_secs = 3600)]
fn theirs_small_sync(id: i64) -> Small {
    let _ = id;
    small()
}

#[memo(max_size = 10_000, ttl_secs = 3600)]
fn theirs_big_sync(id: i64) -> Big {
    let _ = id;
    big()
}

// The `cached` crate with a TTL only (`TimedCache`), its cheapest store with expiry.
#[memo(ttl_secs = 3600)]
async fn theirs_small_async_ttl(id: i64) -> Small {
    let _ = id;
    small()
}

#[memo(ttl_secs = 3600)]
async fn theirs_big_async_ttl(id: i64) -> Big {
    let _ = id;
    big()
}

const PAIRED_ROUNDS: usize = 300;
const PAIRED_BATCH: u32 = 1_000;

/// The median of batch times, per call, in ns.
fn median_ns(mut batches: Vec<Duration>) -> f64 {
    batches.sort_unstable();
    batches[batches.len() / 2].as_nanos() as f64 / f64::from(PAIRED_BATCH)
}

/// The functions of one value type, so both types run the same cases.
struct Cases<T, A, TA, TS, TT> {
    value: fn() -> T,
    ours_async: fn(i64) -> A,
    ours_sync: fn(i64) -> T,
    theirs_async: fn(i64) -> TA,
    theirs_sync: fn(i64) -> TS,
    theirs_async_ttl: fn(i64) -> TT,
}

fn run_cases<T, A, TA, TS, TT>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    label: &str,
    cases: Cases<T, A, TA, TS, TT>,
) where
    T: cache_core::Cacheable,
    A: Future<Output = T>,
    TA: Future<Output = T>,
    TT: Future<Output = T>,
{
    let Cases {
        value,
        ours_async,
        ours_sync,
        theirs_async,
        theirs_sync,
        theirs_async_ttl,
    } = cases;

    // Fill every cache once; every measured call below is a hit.
    rt.block_on(async {
        ours_async(42).await;
        theirs_async(42).await;
        theirs_async_ttl(42).await;
    });
    ours_sync(42);
    theirs_sync(42);

    let moka = moka::future::Cache::<i64, Arc<T>>::new(10_000);
    rt.block_on(moka.insert(42, Arc::new(value())));

    // Paired: batches of the three async contenders in turn, so drift on a shared machine
    // hits all of them alike; the medians per call are printed next to criterion's figures.
    let (mut ours, mut raw, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        for _ in 0..PAIRED_ROUNDS {
            let started = Instant::now();
            for _ in 0..PAIRED_BATCH {
                black_box(ours_async(black_box(42)).await);
            }
            ours.push(started.elapsed());
            let started = Instant::now();
            for _ in 0..PAIRED_BATCH {
                black_box(moka.get(&black_box(42)).await.map(|v| T::clone(&v)));
            }
            raw.push(started.elapsed());
            let started = Instant::now();
            for _ in 0..PAIRED_BATCH {
                black_box(theirs_async(black_box(42)).await);
            }
            theirs.push(started.elapsed());
        }
    });
    let (ours, raw, theirs) = (median_ns(ours), median_ns(raw), median_ns(theirs));
    figure(
        "l1_hit",
        &format!("{label}/paired_macro_async_vs_raw_moka_future"),
        format!("{ours:.1} ns / {raw:.1} ns = {:.3}x", ours / raw),
    );
    figure(
        "l1_hit",
        &format!("{label}/paired_macro_async_vs_cached_crate_async"),
        format!("{ours:.1} ns / {theirs:.1} ns = {:.3}x", ours / theirs),
    );

    group.bench_function("ours_macro_async", |b| {
        b.to_async(rt).iter(|| ours_async(black_box(42)))
    });

    group.bench_function("raw_moka_future_get_clone", |b| {
        b.to_async(rt)
            .iter(|| async { moka.get(&black_box(42)).await.map(|v| T::clone(&v)) })
    });
    group.bench_function("raw_moka_future_get_arc", |b| {
        b.to_async(rt)
            .iter(|| async { moka.get(&black_box(42)).await })
    });

    group.bench_function("cached_crate_async", |b| {
        b.to_async(rt).iter(|| theirs_async(black_box(42)))
    });
    group.bench_function("cached_crate_async_ttl_only", |b| {
        b.to_async(rt).iter(|| theirs_async_ttl(black_box(42)))
    });

    group.bench_function("ours_macro_sync", |b| b.iter(|| ours_sync(black_box(42))));
    let moka_sync = moka::sync::Cache::<i64, Arc<T>>::new(10_000);
    moka_sync.insert(42, Arc::new(value()));
    group.bench_function("raw_moka_sync_get_clone", |b| {
        b.iter(|| moka_sync.get(&black_box(42)).map(|v| T::clone(&v)))
    });
    group.bench_function("cached_crate_sync", |b| {
        b.iter(|| theirs_sync(black_box(42)))
    });

    // The request tier: one scope, filled by the first call, then measured hits inside it.
    group.bench_function("ours_macro_async_request_tier", |b| {
        b.iter_custom(|iters| {
            rt.block_on(request_scope(async {
                ours_async(42).await;
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(ours_async(black_box(42)).await);
                }
                started.elapsed()
            }))
        })
    });
    group.bench_function("ours_macro_sync_request_tier", |b| {
        b.iter_custom(|iters| {
            rt.block_on(request_scope(async {
                ours_sync(42);
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(ours_sync(black_box(42)));
                }
                started.elapsed()
            }))
        })
    });
}

fn l1_hit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // The engine call without the macro, on a cache of its own.
    let cache = Cache::builder().build();
    let opts = Options::new()
        .ttl(Duration::from_secs(3600))
        .early_refresh(false);
    let key = CacheKey::new("bench", &42_i64);
    rt.block_on(cache.set(&key, &small(), &opts));
    let mut group = c.benchmark_group("l1_hit_small");
    group.bench_function("ours_engine_get_or_load", |b| {
        b.to_async(&rt).iter(|| async {
            let v: Result<Small, ()> = cache
                .get_or_load(&key, &opts, || async { Ok(small()) })
                .await;
            v
        })
    });
    // What the macro does before the lookup: build the key (one String, one Arc).
    group.bench_function("ours_key_build_only", |b| {
        b.iter(|| CacheKey::with_schema("bench_small_async", 0, &(black_box(42_i64),)))
    });
    run_cases(
        &mut group,
        &rt,
        "small",
        Cases {
            value: small,
            ours_async: ours_small_async,
            ours_sync: ours_small_sync,
            theirs_async: theirs_small_async,
            theirs_sync: theirs_small_sync,
            theirs_async_ttl: theirs_small_async_ttl,
        },
    );
    group.finish();

    let mut group = c.benchmark_group("l1_hit_2k");
    run_cases(
        &mut group,
        &rt,
        "2k",
        Cases {
            value: big,
            ours_async: ours_big_async,
            ours_sync: ours_big_sync,
            theirs_async: theirs_big_async,
            theirs_sync: theirs_big_sync,
            theirs_async_ttl: theirs_big_async_ttl,
        },
    );
    group.finish();

    let sizes = [
        (
            "small_msgpack_bytes",
            rmp_serde::to_vec_named(&small()).map_or(0, |v| v.len()),
        ),
        (
            "big_msgpack_bytes",
            rmp_serde::to_vec_named(&big()).map_or(0, |v| v.len()),
        ),
    ];
    // How many bytes each call's future occupies (moved at least once per call).
    let opts = &opts;
    let load = || async { Ok::<Small, ()>(small()) };
    let future_sizes = [
        (
            "ours_macro_async_future_bytes",
            size_of_val(&ours_small_async(42)),
        ),
        (
            "ours_engine_get_or_load_future_bytes",
            size_of_val(&cache.get_or_load(&key, opts, load)),
        ),
        (
            "cached_crate_async_future_bytes",
            size_of_val(&theirs_small_async(42)),
        ),
        (
            "raw_moka_future_get_future_bytes",
            size_of_val(&moka::future::Cache::<i64, Arc<Small>>::new(1).get(&42)),
        ),
    ];
    for (name, bytes) in sizes.into_iter().chain(future_sizes) {
        figure("l1_hit", name, bytes);
    }
}

criterion_group!(benches, l1_hit);
criterion_main!(benches);
