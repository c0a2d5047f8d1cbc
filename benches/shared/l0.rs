//! What the L0 bench (`benches/l0_hot_set.rs`) and its profile example
//! (`examples/l0_profile.rs`) both run: a `#[cached]` async fn of ours and the `cached` crate's
//! `#[cached(max_size = N)]` (its `LruCache`, the 4.x name of `SizedCache`) over hot sets of
//! 100, 1,000 and 10,000 keys, the same value type and the same pre-generated key sequences.
//! Included by both with `#[path]`, so they measure the same code.

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::{Rng, Zipf};
use cache_core::cached;
use cached::macros::cached as memo;
use serde::{Deserialize, Serialize};

/// One item of a listing: a name and its tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The item's name.
    pub name: String,
    /// Short tags.
    pub tags: Vec<String>,
}

/// The cached value: an id, a name and nested `Vec<String>`s, about 300 bytes of payload in
/// 18 heap blocks, so a clone costs what a realistic small API object costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// The key it was loaded for.
    pub id: u64,
    /// A display name.
    pub name: String,
    /// Four items of three tags each.
    pub items: Vec<Item>,
}

/// The listing of `id` (what both loaders return).
pub fn listing(id: u64) -> Listing {
    let tags = ["sale", "new", "eco", "local", "gift", "rare"];
    Listing {
        id,
        name: format!("Listing {id} of the spring catalogue"),
        items: (0..4_u64)
            .map(|i| Item {
                name: format!("item {i} of listing {id}"),
                tags: (0..3)
                    .map(|t| tags[((id + i + t) % 6) as usize].to_string())
                    .collect(),
            })
            .collect(),
    }
}

// Ours: the global cache, local tier only (the default global cache), no request scope.
#[cached(name = "l0_100", ttl = "1h", early_refresh = false)]
pub async fn ours_100(id: u64) -> Listing {
    listing(id)
}

#[cached(name = "l0_1000", ttl = "1h", early_refresh = false)]
pub async fn ours_1000(id: u64) -> Listing {
    listing(id)
}

#[cached(name = "l0_10000", ttl = "1h", early_refresh = false)]
pub async fn ours_10000(id: u64) -> Listing {
    listing(id)
}

// Theirs: a bounded store with room for every key of the hot set, so every call hits.
#[memo(max_size = 100)]
pub async fn theirs_100(id: u64) -> Listing {
    listing(id)
}

#[memo(max_size = 1_000)]
pub async fn theirs_1000(id: u64) -> Listing {
    listing(id)
}

#[memo(max_size = 10_000)]
pub async fn theirs_10000(id: u64) -> Listing {
    listing(id)
}

/// How keys are drawn from the hot set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dist {
    /// Every key alike.
    Uniform,
    /// Zipf with exponent 1.0: rank r drawn with weight 1/r.
    Zipf,
}

impl Dist {
    /// The name in figures.
    pub fn name(self) -> &'static str {
        match self {
            Dist::Uniform => "uniform",
            Dist::Zipf => "zipf",
        }
    }
}

/// The hot-set sizes of the bench.
pub const SIZES: [usize; 3] = [100, 1_000, 10_000];
/// Calls in one pre-generated sequence (walked round after round, wrapping).
pub const SEQUENCE: usize = 1 << 17;

/// The ids of a hot set of `n` keys, shuffled so rank and id are unrelated (popular ids are
/// not neighbours), then `len` draws from them: deterministic, the same for every run.
pub fn sequence(n: usize, dist: Dist, len: usize) -> (Vec<u64>, Vec<u64>) {
    let mut rng = Rng(0x10_5EED ^ n as u64);
    let mut ids: Vec<u64> = (0..n as u64).map(|i| 100_000 + i * 37).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        ids.swap(i, j);
    }
    let zipf = Zipf::new(n, 1.0);
    let draws = (0..len)
        .map(|_| match dist {
            Dist::Uniform => ids[rng.below(n as u64) as usize],
            Dist::Zipf => ids[zipf.sample(&mut rng) as usize],
        })
        .collect();
    (ids, draws)
}

/// One contender: an async fn of the id.
pub trait Side {
    /// One call.
    fn call(&self, id: u64) -> impl Future<Output = Listing>;
}

impl<F: Fn(u64) -> Fut, Fut: Future<Output = Listing>> Side for F {
    #[inline(always)]
    fn call(&self, id: u64) -> impl Future<Output = Listing> {
        self(id)
    }
}

/// Calls `side` for every id of `ids` (filling its cache), then checks each value.
pub async fn warm(side: &impl Side, ids: &[u64]) {
    for _ in 0..2 {
        for &id in ids {
            assert_eq!(side.call(id).await.id, id);
        }
    }
}

/// Calls `side` for `ids`, one after another; how long that took.
pub async fn run(side: &impl Side, ids: &[u64]) -> Duration {
    let started = Instant::now();
    for &id in ids {
        black_box(side.call(black_box(id)).await);
    }
    started.elapsed()
}

/// The paired medians of one case, per call in ns: `(ours, theirs)`.
pub async fn paired(
    ours: &impl Side,
    theirs: &impl Side,
    draws: &[u64],
    rounds: usize,
    batch: usize,
) -> (f64, f64) {
    let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let mut at = 0;
    for round in 0..rounds {
        if at + batch > draws.len() {
            at = 0;
        }
        let ids = &draws[at..at + batch];
        at += batch;
        // Both sides walk the same ids in a round; who goes first alternates.
        if round % 2 == 0 {
            a.push(run(ours, ids).await);
            b.push(run(theirs, ids).await);
        } else {
            b.push(run(theirs, ids).await);
            a.push(run(ours, ids).await);
        }
    }
    (per_call_ns(a, batch), per_call_ns(b, batch))
}

/// The median of batch times, per call, in ns.
fn per_call_ns(mut batches: Vec<Duration>, batch: usize) -> f64 {
    batches.sort_unstable();
    batches[batches.len() / 2].as_nanos() as f64 / batch as f64
}
