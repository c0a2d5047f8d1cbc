//! The `GET stats` document: per cache name and tier, from the cache's own counters.

use cache_core::metrics::{LatencyBuckets, LookupCounts, NameReport};
use cache_core::{Cache, StatsSnapshot, TierName};
use serde::Serialize;

/// The whole `GET stats` response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StatsReport {
    /// The cache's namespace.
    pub namespace: String,
    /// Whether a remote tier is configured.
    pub remote_configured: bool,
    /// The local tier's occupancy, if there is a local tier.
    pub local: Option<LocalStats>,
    /// Whole-cache counts of what calls did ([`Cache::stats`]).
    pub totals: TotalStats,
    /// Per cache name, sorted by name; empty if the cache was built without a meter.
    pub caches: Vec<CacheStats>,
}

/// The local tier's occupancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LocalStats {
    /// Entries held.
    pub entries: u64,
    /// Bytes charged against the budget.
    pub bytes: u64,
    /// The byte budget.
    pub max_bytes: u64,
}

/// Whole-cache figures: the call counts of [`StatsSnapshot`] and the load latency of every
/// cache name together.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TotalStats {
    /// Calls that found nothing usable in any tier.
    pub misses: u64,
    /// Loader calls.
    pub loads: u64,
    /// Loader calls that failed.
    pub load_errors: u64,
    /// Callers that waited for another caller's load.
    pub coalesced: u64,
    /// Stale values served (while refreshing, or because the loader failed).
    pub stale_served: u64,
    /// Tier or codec failures.
    pub errors: u64,
    /// Calls the flag sent straight to the loader.
    pub bypassed: u64,
    /// Loads running now.
    pub loads_in_flight: usize,
    /// Load latency over every cache name.
    pub load_latency: LatencySummary,
}

/// Lookups of one tier for one cache name.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TierStats {
    /// Fresh values found.
    pub hit: u64,
    /// Nothing usable found.
    pub miss: u64,
    /// Stale values found.
    pub stale: u64,
    /// Failed lookups.
    pub error: u64,
    /// `hit / (hit + miss + stale)`; `null` before the first lookup.
    pub hit_ratio: Option<f64>,
}

/// Load latency estimated from the `cache.load.duration` buckets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Loads measured.
    pub count: u64,
    /// Median, in milliseconds; `null` before the first load.
    pub p50_ms: Option<f64>,
    /// 99th percentile, in milliseconds.
    pub p99_ms: Option<f64>,
    /// The raw bucket counts (bounds in `bucket_bounds_ms`; the last bucket is unbounded).
    pub buckets: Vec<u64>,
    /// The buckets' upper bounds in milliseconds.
    pub bucket_bounds_ms: Vec<f64>,
}

/// One cache name's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CacheStats {
    /// The cache name.
    pub name: String,
    /// Its flag mode right now (`on`, `off`, `shadow`, `N%`).
    pub mode: String,
    /// Lookups per tier.
    pub tiers: Tiers,
    /// Calls the flag sent straight to the loader.
    pub bypassed: u64,
    /// Callers that waited for another caller's load.
    pub coalesced: u64,
    /// Loads finished.
    pub loads: u64,
    /// Loads that failed.
    pub load_errors: u64,
    /// Stale values found, in every tier.
    pub stale_served: u64,
    /// Failed lookups, in every tier.
    pub errors: u64,
    /// Load latency.
    pub load_latency: LatencySummary,
}

/// Lookups per tier of one cache name.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Tiers {
    /// The request tier.
    pub request: TierStats,
    /// The local tier.
    pub local: TierStats,
    /// The remote tier.
    pub remote: TierStats,
}

impl StatsReport {
    /// Reads every figure from `cache` now: a few atomic loads per cache name.
    pub fn read(cache: &Cache) -> StatsReport {
        let names = cache.name_reports();
        let mut all = vec![0_u64; LatencyBuckets::bounds().len() + 1];
        for report in &names {
            for (sum, n) in all.iter_mut().zip(report.load_latency.counts()) {
                *sum += n;
            }
        }
        StatsReport {
            namespace: cache.namespace().to_owned(),
            remote_configured: cache.has_remote(),
            local: cache.local().map(|local| {
                // moka counts entries and bytes in its maintenance pass; run it so the page
                // shows what is held now (once per poll: cheap next to the tier's own runs).
                local.run_pending_tasks();
                LocalStats {
                    entries: local.entry_count(),
                    bytes: local.weighted_bytes(),
                    max_bytes: local.max_bytes(),
                }
            }),
            totals: TotalStats::new(
                &cache.stats(),
                cache.loads_in_flight(),
                &LatencyBuckets::from_counts(all),
            ),
            caches: names
                .iter()
                .map(|report| CacheStats::new(report, cache))
                .collect(),
        }
    }
}

impl TotalStats {
    fn new(stats: &StatsSnapshot, in_flight: usize, latency: &LatencyBuckets) -> TotalStats {
        TotalStats {
            misses: stats.misses,
            loads: stats.loads,
            load_errors: stats.load_errors,
            coalesced: stats.coalesced,
            stale_served: stats.stale_served + stats.fail_safe,
            errors: stats.errors,
            bypassed: stats.bypassed,
            loads_in_flight: in_flight,
            load_latency: LatencySummary::new(latency),
        }
    }
}

impl CacheStats {
    fn new(report: &NameReport, cache: &Cache) -> CacheStats {
        let tier = |t| TierStats::new(report.tier(t));
        let all = [TierName::Request, TierName::Local, TierName::Remote].map(|t| *report.tier(t));
        CacheStats {
            name: report.name.clone(),
            mode: cache.flags().mode(&report.name).to_string(),
            tiers: Tiers {
                request: tier(TierName::Request),
                local: tier(TierName::Local),
                remote: tier(TierName::Remote),
            },
            bypassed: report.bypassed,
            coalesced: report.coalesced,
            loads: report.loads(),
            load_errors: report.load_errors,
            stale_served: all.iter().map(|t| t.stale).sum(),
            errors: all.iter().map(|t| t.error).sum(),
            load_latency: LatencySummary::new(&report.load_latency),
        }
    }
}

impl TierStats {
    fn new(counts: &LookupCounts) -> TierStats {
        TierStats {
            hit: counts.hit,
            miss: counts.miss,
            stale: counts.stale,
            error: counts.error,
            hit_ratio: counts.hit_ratio(),
        }
    }
}

impl LatencySummary {
    fn new(buckets: &LatencyBuckets) -> LatencySummary {
        let ms = |q| buckets.percentile(q).map(|s| s * 1000.0);
        LatencySummary {
            count: buckets.count(),
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            buckets: buckets.counts().to_vec(),
            bucket_bounds_ms: LatencyBuckets::bounds()
                .iter()
                .map(|s| s * 1000.0)
                .collect(),
        }
    }
}
