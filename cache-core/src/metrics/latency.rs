//! A fixed-bucket histogram of load durations per cache name, fed by the same recording call
//! as the `cache.load.duration` instrument, so a poller (an admin page asking every second)
//! reads percentiles without an exporter and without a second count of the same event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::SECONDS;

/// Buckets: one per upper bound in [`SECONDS`], plus one for everything above the last.
const BUCKETS: usize = SECONDS.len() + 1;

/// Load counts per duration bucket, and how many loads failed. Loads are the slow path (a
/// database call each), so plain atomics are enough.
pub(crate) struct LoadLatency {
    buckets: [AtomicU64; BUCKETS],
    failed: AtomicU64,
}

impl LoadLatency {
    pub(crate) fn new() -> LoadLatency {
        LoadLatency {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            failed: AtomicU64::new(0),
        }
    }

    /// Counts one load that took `took`, and whether it failed.
    pub(crate) fn record(&self, took: Duration, failed: bool) {
        let secs = took.as_secs_f64();
        // Same rule as the OpenTelemetry histogram: a bucket holds values up to its bound.
        let bucket = SECONDS.partition_point(|bound| *bound < secs);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self) -> LatencyBuckets {
        LatencyBuckets {
            counts: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
        }
    }
}

/// Load durations counted per bucket (the bounds of the `cache.load.duration` histogram), from
/// which percentiles are estimated.
///
/// ```
/// use cache_core::metrics::LatencyBuckets;
///
/// // Bounds in seconds; counts has one more slot, for durations above the last bound.
/// let bounds = LatencyBuckets::bounds();
/// let mut counts = vec![0; bounds.len() + 1];
/// counts[3] = 10; // ten loads of (0.5 ms, 1 ms]
/// let buckets = LatencyBuckets::from_counts(counts);
/// assert_eq!(buckets.count(), 10);
/// let p50 = buckets.percentile(0.5).unwrap();
/// assert!(p50 > 0.000_5 && p50 <= 0.001);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyBuckets {
    counts: Vec<u64>,
}

impl LatencyBuckets {
    /// The buckets' upper bounds in seconds, ascending (the last bucket is unbounded).
    pub fn bounds() -> &'static [f64] {
        SECONDS
    }

    /// Buckets with these counts: one per bound plus the unbounded one; missing slots are 0
    /// and extra ones are added to the unbounded bucket.
    pub fn from_counts(mut counts: Vec<u64>) -> LatencyBuckets {
        let overflow: u64 = counts.iter().skip(BUCKETS).sum();
        counts.resize(BUCKETS, 0);
        counts[BUCKETS - 1] += overflow;
        LatencyBuckets { counts }
    }

    /// The count in each bucket, in the order of [`bounds`](Self::bounds), then the
    /// unbounded one.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Loads counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The estimated `q` quantile (`0.0..=1.0`) in seconds, interpolated linearly inside the
    /// bucket that holds it; `None` before the first load. A quantile in the unbounded bucket
    /// is reported as the last bound (a lower bound of the truth).
    pub fn percentile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        // The rank of the wanted sample, 1-based, so q = 0 is the first and 1 the last.
        let rank = (q.clamp(0.0, 1.0) * total as f64).ceil().max(1.0);
        let mut seen = 0_u64;
        for (index, &count) in self.counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            if (seen + count) as f64 >= rank {
                let Some(&upper) = SECONDS.get(index) else {
                    return SECONDS.last().copied();
                };
                let lower = index.checked_sub(1).map_or(0.0, |i| SECONDS[i]);
                let within = (rank - seen as f64) / count as f64;
                return Some(lower + (upper - lower) * within);
            }
            seen += count;
        }
        SECONDS.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_lands_in_the_bucket_whose_bound_covers_it() {
        let latency = LoadLatency::new();
        latency.record(Duration::from_micros(100), false); // exactly the first bound
        latency.record(Duration::from_millis(3), true); // (2.5 ms, 5 ms]
        latency.record(Duration::from_secs(60), false); // above every bound
        let counts = latency.snapshot().counts().to_vec();
        assert_eq!(counts[0], 1);
        assert_eq!(counts[5], 1);
        assert_eq!(counts[BUCKETS - 1], 1);
        assert_eq!(counts.iter().sum::<u64>(), 3);
        assert_eq!(latency.failed(), 1);
    }

    #[test]
    fn percentiles_come_from_the_buckets_that_hold_them() {
        let mut counts = vec![0; BUCKETS];
        counts[2] = 98; // (0.25 ms, 0.5 ms]
        counts[9] = 2; // (50 ms, 100 ms]
        let buckets = LatencyBuckets::from_counts(counts);
        let p50 = buckets.percentile(0.5).unwrap();
        assert!((0.000_25..=0.000_5).contains(&p50), "{p50}");
        let p99 = buckets.percentile(0.99).unwrap();
        assert!((0.05..=0.1).contains(&p99), "{p99}");
    }

    #[test]
    fn no_loads_have_no_percentile_and_overflow_reports_the_last_bound() {
        assert_eq!(LatencyBuckets::from_counts(vec![]).percentile(0.5), None);
        let slow =
            LatencyBuckets::from_counts(vec![0; BUCKETS + 2].into_iter().chain([4]).collect());
        assert_eq!(slow.count(), 4);
        assert_eq!(slow.percentile(0.99), SECONDS.last().copied());
    }
}
