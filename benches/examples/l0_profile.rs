//! A fixed number of L0 hits (see `benches/l0_hot_set.rs`) of one side, for
//! `valgrind --tool=callgrind`: instruction counts are repeatable on a busy machine where
//! times are not. Run with two counts and divide the difference of the totals by the
//! difference of the counts, so the warm-up cancels out:
//!
//! ```sh
//! CARGO_PROFILE_RELEASE_DEBUG=true cargo build --release -p benches --example l0_profile
//! valgrind --tool=callgrind target/release/examples/l0_profile ours 10000 zipf 200000
//! ```
//!
//! Arguments: side (`ours` or `cached`), hot-set size (100, 1000 or 10000), distribution
//! (`uniform` or `zipf`), calls. `paired` as the side instead times both sides like the bench
//! and prints its `FIGURE` line.

use std::hint::black_box;

#[path = "../shared/l0.rs"]
mod l0;
use l0::{Dist, SEQUENCE, SIZES, Side, paired, run, sequence, warm};

fn main() {
    let mut args = std::env::args().skip(1);
    let side = args.next().unwrap_or_else(|| "ours".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let dist = args.next().map_or(Dist::Zipf, |d| match d.as_str() {
        "uniform" => Dist::Uniform,
        "zipf" => Dist::Zipf,
        other => panic!("unknown distribution {other}"),
    });
    let calls: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    assert!(SIZES.contains(&n), "hot-set size {n} is none of {SIZES:?}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        match n {
            100 => one(&side, n, dist, calls, l0::ours_100, l0::theirs_100).await,
            1_000 => one(&side, n, dist, calls, l0::ours_1000, l0::theirs_1000).await,
            _ => one(&side, n, dist, calls, l0::ours_10000, l0::theirs_10000).await,
        }
    });
}

async fn one(side: &str, n: usize, dist: Dist, calls: usize, ours: impl Side, theirs: impl Side) {
    let (ids, draws) = sequence(n, dist, SEQUENCE);
    warm(&ours, &ids).await;
    warm(&theirs, &ids).await;
    let mut left = calls;
    while left > 0 {
        let chunk = left.min(draws.len());
        match side {
            "ours" => black_box(run(&ours, &draws[..chunk]).await),
            "cached" => black_box(run(&theirs, &draws[..chunk]).await),
            "paired" => {
                let (a, b) = paired(&ours, &theirs, &draws, 400, 1_000).await;
                println!(
                    "FIGURE l0 {n} {}: ours {a:.1} ns / cached {b:.1} ns = {:.3}x",
                    dist.name(),
                    a / b
                );
                return;
            }
            other => panic!("unknown side {other}"),
        };
        left -= chunk;
    }
}
