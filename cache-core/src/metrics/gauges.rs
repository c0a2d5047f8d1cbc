//! Observable gauges: local-tier size and flag modes, read at collection time.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Meter, ObservableGauge};

use crate::flags::{FlagMode, Flags};
use crate::tier::local::LocalTier;

/// `cache.local.entries` and `cache.local.bytes` (with a local tier) and `cache.flag.mode`.
pub(super) fn gauges(
    meter: &Meter,
    namespace: &str,
    local: Option<&LocalTier>,
    flags: &Flags,
) -> Vec<ObservableGauge<u64>> {
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
    gauges
}
