//! A plain atomic counter, for events that only cold paths count.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter bumped on cold paths (breaker trips, reconnects, failed calls): one `AtomicU64`,
/// small and exact, whose cache line is never contended enough to need striping (hot-path
/// counts use [`StripedCounter`](super::StripedCounter)).
///
/// It is the atomic itself (`Deref<Target = AtomicU64>`), so every atomic operation is
/// available with its own memory ordering and return value; [`increment`](Self::increment),
/// [`add`](Self::add) and [`get`](Self::get) are the relaxed shorthands statistics need.
///
/// ```
/// use std::sync::atomic::Ordering;
/// let trips = cache_core::metrics::AtomicCounter::new();
/// trips.increment();
/// assert_eq!(trips.fetch_add(2, Ordering::Relaxed), 1);
/// assert_eq!(trips.get(), 3);
/// ```
#[derive(Default)]
pub struct AtomicCounter(AtomicU64);

impl AtomicCounter {
    /// A counter at zero.
    pub const fn new() -> AtomicCounter {
        AtomicCounter(AtomicU64::new(0))
    }

    /// Adds one (relaxed: a statistic, not synchronisation).
    #[inline]
    pub fn increment(&self) {
        self.add(1);
    }

    /// Adds `n` (relaxed).
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value (relaxed).
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Deref for AtomicCounter {
    type Target = AtomicU64;

    fn deref(&self) -> &AtomicU64 {
        &self.0
    }
}

impl fmt::Debug for AtomicCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}
