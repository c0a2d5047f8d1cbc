//! One recording call per event: [`Recorder::record`] feeds the [`Stats`] counters behind
//! [`Cache::stats`](crate::Cache::stats) and the OpenTelemetry instruments alike, so no
//! call site counts an event twice by hand.
//!
//! Stats count *calls* (one miss per call that found nothing), the instruments count
//! *lookups* (one `cache.requests` point per tier asked), so a few events feed only one side;
//! each variant says which.

use std::time::Duration;

use super::{Lookup, Metrics};
use crate::stats::{Stats, StatsSnapshot, TierName};

/// Something the engine did, as counted. `Copy` and matched in an inlined
/// [`Recorder::record`], so a constant event compiles down to its counters' increments.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event<'a> {
    /// A fresh hit in a tier, served: its stats `*_hits` and `cache.requests{hit}`.
    Hit(&'a str, TierName),
    /// One lookup in a tier, as `cache.requests{cache.result}` only (a call's outcome is
    /// counted by the other events).
    Lookup(&'a str, TierName, Lookup),
    /// A fresh value served from a tier whose lookup was recorded already: stats only.
    Served(TierName),
    /// The flag sent the call straight to the loader: `bypassed` and `cache.requests{bypass}`.
    Bypass(&'a str),
    /// A call found nothing usable in any tier: stats only.
    Miss,
    /// A caller waited for another caller's load: `coalesced` and `cache.coalesced`.
    Coalesced(&'a str),
    /// A loader was called: stats only.
    LoadStarted,
    /// A loader returned after `took`, with an error if `failed`: `cache.load.duration`, and
    /// `load_errors` when it failed.
    LoadEnded(&'a str, Duration, bool),
    /// An envelope of this many bytes was written: `cache.entry.size` only.
    Encoded(&'a str, usize),
    /// A shadow comparison, matching or not: `shadow_*` and `cache.shadow`.
    Shadow(&'a str, bool),
    /// A stale value served while another caller refreshed or the loader was slow: stats only.
    StaleServed,
    /// A stale value served because the loader failed: stats only.
    FailSafe,
    /// A refresh started early by XFetch: stats only.
    EarlyRefresh,
    /// This process waited for another process's lease: stats only.
    LeaseWait,
    /// A fill refused by its fence: stats only.
    FencedFill,
    /// An entry that did not decode and was dropped: stats only.
    CorruptEntry,
    /// A tier or codec failure of this `error.type`: `errors` and `cache.errors`.
    Failure(TierName, &'static str),
    /// One remote-tier operation and how long it took: `cache.tier.duration` only.
    RemoteCall(&'static str, Duration),
}

/// Where events are counted: the always-on stats and, with a meter, the instruments.
pub(crate) struct Recorder {
    stats: Stats,
    metrics: Metrics,
}

impl Recorder {
    pub(crate) fn new(metrics: Metrics) -> Recorder {
        Recorder {
            stats: Stats::default(),
            metrics,
        }
    }

    /// Whether [`Event::RemoteCall`] durations are recorded anywhere: without a meter a
    /// remote call need not read the clock twice.
    pub(crate) fn times_remote_calls(&self) -> bool {
        self.metrics.records_durations()
    }

    /// Counts `event` everywhere it belongs. The hit events are the hot path; every other
    /// one is handed to an out-of-line function, so inlining this stays cheap.
    #[inline(always)]
    pub(crate) fn record(&self, event: Event<'_>) {
        match event {
            Event::Hit(name, tier) => self.hit(name, tier),
            Event::Lookup(name, tier, result) => self.metrics.request(name, Some(tier), result),
            other => self.record_cold(other),
        }
    }

    #[inline(always)]
    fn hit(&self, name: &str, tier: TierName) {
        self.stats.hit(tier);
        self.metrics.request(name, Some(tier), Lookup::Hit);
    }

    #[inline(never)]
    fn record_cold(&self, event: Event<'_>) {
        let (stats, metrics) = (&self.stats, &self.metrics);
        match event {
            Event::Hit(name, tier) => self.hit(name, tier),
            Event::Lookup(name, tier, result) => metrics.request(name, Some(tier), result),
            Event::Served(tier) => stats.hit(tier),
            Event::Bypass(name) => {
                Stats::bump(&stats.bypassed);
                metrics.request(name, None, Lookup::Bypass);
            }
            Event::Miss => Stats::bump(&stats.misses),
            Event::Coalesced(name) => {
                Stats::bump(&stats.coalesced);
                metrics.coalesced(name);
            }
            Event::LoadStarted => Stats::bump(&stats.loads),
            Event::LoadEnded(name, took, failed) => {
                metrics.load(name, took, failed);
                if failed {
                    Stats::bump(&stats.load_errors);
                }
            }
            Event::Encoded(name, bytes) => metrics.entry_size(name, bytes),
            Event::Shadow(name, matched) => {
                metrics.shadow(name, matched);
                Stats::bump(if matched {
                    &stats.shadow_matches
                } else {
                    &stats.shadow_mismatches
                });
            }
            Event::StaleServed => Stats::bump(&stats.stale_served),
            Event::FailSafe => Stats::bump(&stats.fail_safe),
            Event::EarlyRefresh => Stats::bump(&stats.early_refreshes),
            Event::LeaseWait => Stats::bump(&stats.lease_waits),
            Event::FencedFill => Stats::bump(&stats.fenced_fills),
            Event::CorruptEntry => Stats::bump(&stats.corrupt_entries),
            Event::Failure(tier, kind) => {
                Stats::bump(&stats.errors);
                metrics.error(tier, kind);
            }
            Event::RemoteCall(operation, took) => {
                metrics.tier_op(TierName::Remote, operation, took);
            }
        }
    }

    /// Per cache name, what the instruments counted so far (empty without a meter).
    pub(crate) fn name_reports(&self) -> Vec<super::NameReport> {
        self.metrics.name_reports()
    }

    /// The stats counted so far.
    pub(crate) fn snapshot(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::Flags;

    #[test]
    fn each_event_moves_only_the_stats_it_names() {
        let recorder = Recorder::new(Metrics::new(None, "app", None, &Flags::new()));
        for event in [
            Event::Hit("users", TierName::Local),
            Event::Lookup("users", TierName::Remote, Lookup::Miss),
            Event::Served(TierName::Remote),
            Event::LoadStarted,
            Event::LoadEnded("users", Duration::ZERO, true),
            Event::LoadEnded("users", Duration::ZERO, false),
            Event::Encoded("users", 64),
            Event::Shadow("users", false),
            Event::Failure(TierName::Remote, "timeout"),
            Event::RemoteCall("get", Duration::ZERO),
        ] {
            recorder.record(event);
        }
        let expected = StatsSnapshot {
            local_hits: 1,
            remote_hits: 1,
            loads: 1,
            load_errors: 1,
            shadow_mismatches: 1,
            errors: 1,
            ..StatsSnapshot::default()
        };
        assert_eq!(recorder.snapshot(), expected);
    }
}
