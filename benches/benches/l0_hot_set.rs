//! L0: an L1 hit through our `#[cached]` async fn (global cache, local tier only, no request
//! scope) on a realistic hot set, against the `cached` crate's async `#[cached(max_size = N)]`
//! on the same keys and values: 100, 1,000 and 10,000 distinct keys, drawn uniformly and by
//! Zipf (s = 1.0), the value a struct with nested `Vec<String>`s (about 300 B). Both sides
//! return an owned clone, as both macros do.
//!
//! For each case both caches are warmed (every key hits), then 400 rounds of 1,000 calls of
//! each side in turn walk the same pre-generated ids, and the medians per call are printed:
//! `FIGURE l0 <N> <dist>: ours X ns / cached Y ns = R x`. Criterion then times each side
//! alone over the same sequence.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../shared/l0.rs"]
mod l0;
use l0::{Dist, SEQUENCE, SIZES, Side, paired, run, sequence, warm};

const ROUNDS: usize = 400;
const BATCH: usize = 1_000;

fn case(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    n: usize,
    dist: Dist,
    ours: impl Side,
    theirs: impl Side,
) {
    let (ids, draws) = sequence(n, dist, SEQUENCE);
    let (ours_ns, theirs_ns) = rt.block_on(async {
        warm(&ours, &ids).await;
        warm(&theirs, &ids).await;
        paired(&ours, &theirs, &draws, ROUNDS, BATCH).await
    });
    println!(
        "FIGURE l0 {n} {}: ours {ours_ns:.1} ns / cached {theirs_ns:.1} ns = {:.3}x",
        dist.name(),
        ours_ns / theirs_ns
    );
    let mut group = c.benchmark_group(format!("l0_hot_set/{n}_{}", dist.name()));
    group.bench_function("ours_macro_async", |b| {
        b.iter_custom(|iters| timed(rt, &ours, &draws, iters))
    });
    group.bench_function("cached_crate_async", |b| {
        b.iter_custom(|iters| timed(rt, &theirs, &draws, iters))
    });
    group.finish();
}

/// `iters` calls of `side`, walking `draws` (wrapping).
fn timed(rt: &tokio::runtime::Runtime, side: &impl Side, draws: &[u64], iters: u64) -> Duration {
    rt.block_on(async {
        let mut left = iters as usize;
        let mut took = Duration::ZERO;
        while left > 0 {
            let chunk = left.min(draws.len());
            took += run(side, &draws[..chunk]).await;
            left -= chunk;
        }
        took
    })
}

fn l0_hot_set(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for n in SIZES {
        for dist in [Dist::Uniform, Dist::Zipf] {
            match n {
                100 => case(c, &rt, n, dist, l0::ours_100, l0::theirs_100),
                1_000 => case(c, &rt, n, dist, l0::ours_1000, l0::theirs_1000),
                _ => case(c, &rt, n, dist, l0::ours_10000, l0::theirs_10000),
            }
        }
    }
}

criterion_group!(benches, l0_hot_set);
criterion_main!(benches);
