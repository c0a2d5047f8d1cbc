//! OpenTelemetry instruments for what the engine does.
//!
//! Instrument names are part of the contract (dashboards query them):
//!
//! | instrument | kind | attributes |
//! |---|---|---|
//! | `cache.requests` | counter (observable) | `cache.name`, `cache.tier`, `cache.result` = hit, miss, stale, bypass, error |
//! | `cache.load.duration` | histogram, s | `cache.name` |
//! | `cache.tier.duration` | histogram, s | `cache.tier`, `operation` |
//! | `cache.coalesced` | counter (observable) | `cache.name` |
//! | `cache.entry.size` | histogram, bytes after compression | `cache.name` |
//! | `cache.errors` | counter | `cache.tier`, `error.type` |
//! | `cache.shadow` | counter | `cache.name`, `outcome` = match, mismatch |
//! | `cache.flag.mode` | gauge, % of keys cached | `cache.name`, `mode` |
//! | `cache.local.entries`, `cache.local.bytes` | gauges | `cache.namespace` |
//!
//! Every lookup a call makes is one `cache.requests` point for the tier it asked, so the hit ratio
//! of a tier is `hit / (hit + miss + stale)` of that tier. Attribute sets are built once per cache
//! name and reused; without a meter nothing is recorded and nothing is paid.
//!
//! `cache.requests` and `cache.coalesced` happen on every call, hits included, so they are
//! counted in this crate's striped atomics (a few ns, no lock, no shared cache line) and
//! reported by observable counters that sum them at collection time. Their exported names,
//! descriptions and attributes are those of the synchronous counters they replace. One
//! difference: an observable counter reports absolute values, so two caches that share a meter
//! *and* a cache name do not add up; the last one to report wins. Give each cache its own
//! meter (or distinct cache names) if several in one process report to one exporter.
//! The histograms and the error and shadow counters are on miss and remote paths and record
//! through the OpenTelemetry SDK directly.

mod attrs;
mod gauges;
mod latency;
mod names;
#[cfg(feature = "prometheus")]
pub mod prometheus;
mod record;
mod report;
mod striped;

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter, ObservableCounter, ObservableGauge};

use crate::flags::Flags;
use crate::stats::TierName;
use crate::tier::local::LocalTier;
pub(crate) use attrs::Lookup;
pub use latency::LatencyBuckets;
use names::Names;
pub(crate) use record::{Event, Recorder};
pub use report::{LookupCounts, NameReport};
pub(crate) use striped::StripedCounter;

const SECONDS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
const BYTES: &[f64] = &[
    64.0,
    256.0,
    1024.0,
    4096.0,
    16_384.0,
    65_536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
];

/// The engine's instruments; a no-op when the cache was built without a meter. Recorded
/// only through [`Recorder::record`], which also keeps the stats.
pub(crate) struct Metrics {
    instruments: Option<Instruments>,
}

struct Instruments {
    load_duration: Histogram<f64>,
    tier_duration: Histogram<f64>,
    entry_size: Histogram<u64>,
    errors: Counter<u64>,
    shadow: Counter<u64>,
    /// Per cache name: attribute sets, and the counts `cache.requests` and `cache.coalesced`
    /// report (their callbacks hold the same `Arc`).
    names: Arc<Names>,
    /// The SDK (0.33) runs the callbacks for as long as its provider lives, whatever becomes
    /// of these handles; they are kept in case a later SDK ties callbacks to them.
    _counters: [ObservableCounter<u64>; 2],
    _gauges: Vec<ObservableGauge<u64>>,
}

impl Metrics {
    pub(crate) fn new(
        meter: Option<&Meter>,
        namespace: &str,
        local: Option<&LocalTier>,
        flags: &Flags,
    ) -> Metrics {
        Metrics {
            instruments: meter.map(|meter| Instruments::new(meter, namespace, local, flags)),
        }
    }

    /// Whether durations are recorded (a meter is set): without one, nobody reads them.
    fn records_durations(&self) -> bool {
        self.instruments.is_some()
    }

    /// One lookup in one tier (or a bypass, with `tier = None`).
    #[inline]
    fn request(&self, name: &str, tier: Option<TierName>, result: Lookup) {
        if let Some(i) = &self.instruments {
            i.names.with(name, |n| n.count_request(tier, result));
        }
    }

    fn load(&self, name: &str, took: Duration, failed: bool) {
        if let Some(i) = &self.instruments {
            i.names.with(name, |n| {
                i.load_duration.record(took.as_secs_f64(), n.attrs.name());
                n.latency.record(took, failed);
            });
        }
    }

    fn coalesced(&self, name: &str) {
        if let Some(i) = &self.instruments {
            i.names.with(name, |n| n.count_coalesced());
        }
    }

    fn entry_size(&self, name: &str, bytes: usize) {
        if let Some(i) = &self.instruments {
            let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
            i.names
                .with(name, |n| i.entry_size.record(bytes, n.attrs.name()));
        }
    }

    fn shadow(&self, name: &str, matched: bool) {
        if let Some(i) = &self.instruments {
            i.names
                .with(name, |n| i.shadow.add(1, n.attrs.shadow(matched)));
        }
    }

    /// A remote-tier (or codec) operation's duration; slow path, attributes built per call.
    fn tier_op(&self, tier: TierName, operation: &'static str, took: Duration) {
        if let Some(i) = &self.instruments {
            let attrs = [
                KeyValue::new("cache.tier", tier.as_str()),
                KeyValue::new("operation", operation),
            ];
            i.tier_duration.record(took.as_secs_f64(), &attrs);
        }
    }

    fn error(&self, tier: TierName, kind: &'static str) {
        if let Some(i) = &self.instruments {
            let attrs = [
                KeyValue::new("cache.tier", tier.as_str()),
                KeyValue::new("error.type", kind),
            ];
            i.errors.add(1, &attrs);
        }
    }
}

impl Instruments {
    fn new(
        meter: &Meter,
        namespace: &str,
        local: Option<&LocalTier>,
        flags: &Flags,
    ) -> Instruments {
        let names = Arc::new(Names::new());
        let requests = Arc::clone(&names);
        let coalesced = Arc::clone(&names);
        Instruments {
            load_duration: meter
                .f64_histogram("cache.load.duration")
                .with_description("Time spent in loaders")
                .with_unit("s")
                .with_boundaries(SECONDS.to_vec())
                .build(),
            tier_duration: meter
                .f64_histogram("cache.tier.duration")
                .with_description("Time spent in remote tier operations")
                .with_unit("s")
                .with_boundaries(SECONDS.to_vec())
                .build(),
            entry_size: meter
                .u64_histogram("cache.entry.size")
                .with_description("Size of written entries after compression")
                .with_unit("By")
                .with_boundaries(BYTES.to_vec())
                .build(),
            errors: meter
                .u64_counter("cache.errors")
                .with_description("Tier and codec failures, each also a miss")
                .build(),
            shadow: meter
                .u64_counter("cache.shadow")
                .with_description("Shadow-mode comparisons of cached and fresh values")
                .build(),
            _counters: [
                meter
                    .u64_observable_counter("cache.requests")
                    .with_description("Cache lookups per tier and result")
                    .with_callback(move |o| requests.for_each(|n| n.observe_requests(o)))
                    .build(),
                meter
                    .u64_observable_counter("cache.coalesced")
                    .with_description("Callers that waited for another caller's load")
                    .with_callback(move |o| coalesced.for_each(|n| n.observe_coalesced(o)))
                    .build(),
            ],
            _gauges: gauges::gauges(meter, namespace, local, flags),
            names,
        }
    }
}
