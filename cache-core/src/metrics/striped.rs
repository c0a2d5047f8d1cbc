//! Counters that threads can bump without sharing a cache line.
//!
//! A plain `AtomicU64` bumped by every thread that hits the cache makes that cache line bounce
//! between cores on every hit. Here each counter has one cell per *stripe*; a thread always
//! writes the cell of its own stripe (assigned round-robin the first time it counts anything)
//! and a read sums the stripes. Writes stay exact (atomic adds); only reads pay for the striping.

use std::cell::Cell;
use std::fmt;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Fewest stripes: a couple of helper threads next to the workers still get a stripe of their own.
const MIN_STRIPES: usize = 4;
/// Most stripes: bounds memory (a [`StripedCounter`] is `stripes × 128` bytes).
const MAX_STRIPES: usize = 16;
/// A thread-local stripe that was not assigned yet.
const UNASSIGNED: usize = usize::MAX;

/// Stripes per counter in this process: the available parallelism as a power of two, clamped.
static STRIPES: LazyLock<usize> = LazyLock::new(|| {
    std::thread::available_parallelism()
        .map_or(MIN_STRIPES, |n| n.get().next_power_of_two())
        .clamp(MIN_STRIPES, MAX_STRIPES)
});

/// The next stripe to hand out; wraps (masked) so consecutive threads get different stripes.
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static STRIPE: Cell<usize> = const { Cell::new(UNASSIGNED) };
}

/// The calling thread's stripe, in `0..stripes()`.
#[inline]
fn stripe() -> usize {
    STRIPE
        .try_with(|s| {
            let mine = s.get();
            if mine != UNASSIGNED {
                return mine;
            }
            let mine = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) & (*STRIPES - 1);
            s.set(mine);
            mine
        })
        // The thread-local is gone only while this thread is being torn down: share stripe 0.
        .unwrap_or(0)
}

/// `N` counters of one stripe, alone on their cache lines (128 bytes: x86 prefetches lines in
/// pairs, so 64-byte alignment would still let neighbouring stripes interfere).
#[repr(align(128))]
struct Stripe<const N: usize>([AtomicU64; N]);

/// `N` counters, each split over the process's stripes.
pub(crate) struct Striped<const N: usize> {
    stripes: Box<[Stripe<N>]>,
}

impl<const N: usize> Striped<N> {
    /// `N` counters at zero.
    pub(crate) fn new() -> Striped<N> {
        Striped {
            stripes: (0..*STRIPES)
                .map(|_| Stripe(std::array::from_fn(|_| AtomicU64::new(0))))
                .collect(),
        }
    }

    /// Adds `n` to counter `slot` (`slot < N`) in the calling thread's stripe.
    #[inline]
    pub(crate) fn add(&self, slot: usize, n: u64) {
        // `stripe()` is below `STRIPES`, the length of `stripes`; `get` keeps a miss harmless.
        if let Some(stripe) = self.stripes.get(stripe()) {
            stripe.0[slot].fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counter `slot` summed over the stripes (wrapping, like the atomics themselves).
    pub(crate) fn sum(&self, slot: usize) -> u64 {
        self.stripes.iter().fold(0, |total, stripe| {
            total.wrapping_add(stripe.0[slot].load(Ordering::Relaxed))
        })
    }
}

/// One contention-free counter, for events that every thread counts on its hot path (hits).
///
/// Not an atomic: there is no single current value to swap or compare, so adds return
/// nothing and a read is a [`sum`](Self::sum) over the stripes. Counters that only cold paths
/// bump are plain atomics instead.
pub(crate) struct StripedCounter(Striped<1>);

impl StripedCounter {
    /// A counter at zero.
    pub(crate) fn new() -> StripedCounter {
        StripedCounter(Striped::new())
    }

    /// Adds `n` in the calling thread's stripe.
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.add(0, n);
    }

    /// Adds one in the calling thread's stripe.
    #[inline]
    pub(crate) fn increment(&self) {
        self.add(1);
    }

    /// The total over all threads. Adds made concurrently may or may not be included.
    pub(crate) fn sum(&self) -> u64 {
        self.0.sum(0)
    }
}

impl Default for StripedCounter {
    fn default() -> StripedCounter {
        StripedCounter::new()
    }
}

impl fmt::Debug for StripedCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.sum(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_increments_sum_exactly() {
        const THREADS: u64 = 8;
        const PER_THREAD: u64 = 100_000;
        let counter = StripedCounter::new();
        std::thread::scope(|s| {
            for _ in 0..THREADS {
                s.spawn(|| {
                    for _ in 0..PER_THREAD {
                        counter.add(1);
                    }
                });
            }
        });
        assert_eq!(counter.sum(), THREADS * PER_THREAD);
    }

    #[test]
    fn slots_are_independent_and_sum_over_threads() {
        let cells = Striped::<3>::new();
        std::thread::scope(|s| {
            for t in 0..6_u64 {
                let cells = &cells;
                s.spawn(move || {
                    for _ in 0..1_000 {
                        cells.add(0, 1);
                        cells.add(2, t);
                    }
                });
            }
        });
        assert_eq!(
            (cells.sum(0), cells.sum(1), cells.sum(2)),
            (6_000, 0, 15_000)
        );
    }

    #[test]
    fn stripes_are_a_bounded_power_of_two() {
        assert!(STRIPES.is_power_of_two());
        assert!((MIN_STRIPES..=MAX_STRIPES).contains(&*STRIPES));
    }
}
