//! Per cache name, what the `cache.requests`, `cache.coalesced` and `cache.load.duration`
//! instruments have counted, read straight from the counters their exporters read, so an admin
//! page and `/metrics` can never disagree. See [`Cache::name_reports`](crate::Cache::name_reports).

use super::Metrics;
use super::attrs::{Lookup, request_slot};
use super::latency::LatencyBuckets;
use super::names::NameMetrics;
use crate::stats::TierName;

/// Lookups in one tier by `cache.result`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupCounts {
    /// Fresh values found.
    pub hit: u64,
    /// Nothing usable found.
    pub miss: u64,
    /// Stale values found (served while refreshing, or as a fail-safe).
    pub stale: u64,
    /// Lookups that failed (each also a miss for the caller).
    pub error: u64,
}

impl LookupCounts {
    /// Every lookup counted.
    pub fn total(&self) -> u64 {
        self.hit + self.miss + self.stale + self.error
    }

    /// `hit / (hit + miss + stale)`, the ratio the Grafana dashboard plots; `None` before the
    /// first such lookup.
    pub fn hit_ratio(&self) -> Option<f64> {
        let asked = self.hit + self.miss + self.stale;
        (asked > 0).then(|| self.hit as f64 / asked as f64)
    }
}

/// What one cache name has done, as its instruments counted it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NameReport {
    /// The cache name (`cache.name`).
    pub name: String,
    /// Lookups in the request tier.
    pub request: LookupCounts,
    /// Lookups in the local tier.
    pub local: LookupCounts,
    /// Lookups in the remote tier.
    pub remote: LookupCounts,
    /// Calls sent straight to the loader by the flag.
    pub bypassed: u64,
    /// Callers that waited for another caller's load.
    pub coalesced: u64,
    /// Loads that returned an error.
    pub load_errors: u64,
    /// How long loads took (their count is the number of loads).
    pub load_latency: LatencyBuckets,
}

impl NameReport {
    /// Lookups in `tier`.
    pub fn tier(&self, tier: TierName) -> &LookupCounts {
        match tier {
            TierName::Request => &self.request,
            TierName::Local => &self.local,
            TierName::Remote => &self.remote,
        }
    }

    /// Loads that finished, failed or not.
    pub fn loads(&self) -> u64 {
        self.load_latency.count()
    }

    fn read(name: &str, metrics: &NameMetrics) -> NameReport {
        let lookups = |tier| LookupCounts {
            hit: metrics.requests(request_slot(Some(tier), Lookup::Hit)),
            miss: metrics.requests(request_slot(Some(tier), Lookup::Miss)),
            stale: metrics.requests(request_slot(Some(tier), Lookup::Stale)),
            error: metrics.requests(request_slot(Some(tier), Lookup::Error)),
        };
        NameReport {
            name: name.to_owned(),
            request: lookups(TierName::Request),
            local: lookups(TierName::Local),
            remote: lookups(TierName::Remote),
            bypassed: metrics.requests(request_slot(None, Lookup::Bypass)),
            coalesced: metrics.coalesced(),
            load_errors: metrics.latency.failed(),
            load_latency: metrics.latency.snapshot(),
        }
    }
}

impl Metrics {
    /// One report per cache name recorded so far, sorted by name; empty without a meter.
    pub(crate) fn name_reports(&self) -> Vec<NameReport> {
        let Some(instruments) = &self.instruments else {
            return Vec::new();
        };
        let mut reports = Vec::new();
        instruments
            .names
            .for_each_named(|name, metrics| reports.push(NameReport::read(name, metrics)));
        reports.sort_by(|a, b| a.name.cmp(&b.name));
        reports
    }
}
