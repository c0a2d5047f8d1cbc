//! OpenTelemetry instruments for what the engine does.
//!
//! Instrument names are part of the contract (dashboards query them):
//!
//! | instrument | kind | attributes |
//! |---|---|---|
//! | `cache.requests` | counter | `cache.name`, `cache.tier`, `cache.result` = hit, miss, stale, bypass, error |
//! | `cache.load.duration` | histogram, s | `cache.name` |
//! | `cache.tier.duration` | histogram, s | `cache.tier`, `operation` |
//! | `cache.coalesced` | counter | `cache.name` |
//! | `cache.entry.size` | histogram, bytes after compression | `cache.name` |
//! | `cache.errors` | counter | `cache.tier`, `error.type` |
//! | `cache.shadow` | counter | `cache.name`, `outcome` = match, mismatch |
//! | `cache.flag.mode` | gauge, % of keys cached | `cache.name`, `mode` |
//! | `cache.local.entries`, `cache.local.bytes` | gauges | `cache.namespace` |
//!
//! Every lookup a call makes is one `cache.requests` point for the tier it asked, so the hit ratio
//! of a tier is `hit / (hit + miss + stale)` of that tier. Attribute sets are built once per cache
//! name and reused; without a meter nothing is recorded and nothing is paid.

mod attrs;
#[cfg(feature = "prometheus")]
pub mod prometheus;

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Histogram, Meter, ObservableGauge};

use crate::flags::{FlagMode, Flags};
use crate::stats::TierName;
use crate::tier::local::LocalTier;
use attrs::AttrCache;
pub(crate) use attrs::Lookup;

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

/// The engine's instruments; a no-op when the cache was built without a meter.
pub(crate) struct Metrics {
    instruments: Option<Instruments>,
}

struct Instruments {
    requests: Counter<u64>,
    load_duration: Histogram<f64>,
    tier_duration: Histogram<f64>,
    coalesced: Counter<u64>,
    entry_size: Histogram<u64>,
    errors: Counter<u64>,
    shadow: Counter<u64>,
    attrs: AttrCache,
    /// Observable gauges report through callbacks for as long as they are alive.
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

    /// One lookup in one tier (or a bypass, with `tier = None`).
    #[inline]
    pub(crate) fn request(&self, name: &str, tier: Option<TierName>, result: Lookup) {
        if let Some(i) = &self.instruments {
            i.attrs
                .with(name, |a| i.requests.add(1, a.request(tier, result)));
        }
    }

    pub(crate) fn load(&self, name: &str, took: Duration) {
        if let Some(i) = &self.instruments {
            i.attrs.with(name, |a| {
                i.load_duration.record(took.as_secs_f64(), a.name())
            });
        }
    }

    pub(crate) fn coalesced(&self, name: &str) {
        if let Some(i) = &self.instruments {
            i.attrs.with(name, |a| i.coalesced.add(1, a.name()));
        }
    }

    pub(crate) fn entry_size(&self, name: &str, bytes: usize) {
        if let Some(i) = &self.instruments {
            let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
            i.attrs.with(name, |a| i.entry_size.record(bytes, a.name()));
        }
    }

    pub(crate) fn shadow(&self, name: &str, matched: bool) {
        if let Some(i) = &self.instruments {
            i.attrs.with(name, |a| i.shadow.add(1, a.shadow(matched)));
        }
    }

    /// A remote-tier (or codec) operation's duration; slow path, attributes built per call.
    pub(crate) fn tier_op(&self, tier: TierName, operation: &'static str, took: Duration) {
        if let Some(i) = &self.instruments {
            let attrs = [
                KeyValue::new("cache.tier", tier.as_str()),
                KeyValue::new("operation", operation),
            ];
            i.tier_duration.record(took.as_secs_f64(), &attrs);
        }
    }

    pub(crate) fn error(&self, tier: TierName, kind: &'static str) {
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
        let mut gauges = Vec::new();
        let ns = KeyValue::new("cache.namespace", namespace.to_string());
        if let Some(local) = local {
            let (tier, attrs) = (local.clone(), [ns.clone()]);
            gauges.push(
                meter
                    .u64_observable_gauge("cache.local.entries")
                    .with_description("Entries in the local tier")
                    .with_callback(move |o| o.observe(tier.entry_count(), &attrs))
                    .build(),
            );
            let (tier, attrs) = (local.clone(), [ns]);
            gauges.push(
                meter
                    .u64_observable_gauge("cache.local.bytes")
                    // No unit: the exporter would append `_bytes` to a name that says it.
                    .with_description("Bytes charged in the local tier")
                    .with_callback(move |o| o.observe(tier.weighted_bytes(), &attrs))
                    .build(),
            );
        }
        let flags = flags.clone();
        gauges.push(
            meter
                .u64_observable_gauge("cache.flag.mode")
                .with_description("Share of keys that use the cache (0-100) per flag, by mode")
                .with_callback(move |o| {
                    for (name, mode) in flags.entries() {
                        let share = match mode {
                            FlagMode::Off => 0,
                            FlagMode::On | FlagMode::Shadow => 100,
                            FlagMode::Percent(p) => u64::from(p),
                        };
                        let mode = match mode {
                            FlagMode::Percent(_) => "percent".to_string(),
                            other => other.to_string(),
                        };
                        o.observe(
                            share,
                            &[
                                KeyValue::new("cache.name", name),
                                KeyValue::new("mode", mode),
                            ],
                        );
                    }
                })
                .build(),
        );
        Instruments {
            requests: meter
                .u64_counter("cache.requests")
                .with_description("Cache lookups per tier and result")
                .build(),
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
            coalesced: meter
                .u64_counter("cache.coalesced")
                .with_description("Callers that waited for another caller's load")
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
            attrs: AttrCache::default(),
            _gauges: gauges,
        }
    }
}
