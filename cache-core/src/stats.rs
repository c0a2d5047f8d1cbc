//! Cheap always-on counters of what the engine did.
//!
//! They back tests and the `/healthz`-style introspection; the OpenTelemetry instruments report
//! the same events with attributes for dashboards. Both are fed by one call,
//! [`Recorder::record`](crate::metrics::Recorder::record).

/// A cache tier, as named in metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TierName {
    /// Values shared within one request scope.
    Request,
    /// The in-process moka tier.
    Local,
    /// The shared remote tier (Redis).
    Remote,
}

impl TierName {
    /// The `cache.tier` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            TierName::Request => "request",
            TierName::Local => "local",
            TierName::Remote => "remote",
        }
    }
}

striped_counters! {
    /// A point-in-time copy of a cache's counters (see [`Cache::stats`](crate::Cache::stats)).
    Stats => StatsSnapshot {
        /// Hits in the request tier.
        request_hits,
        /// Fresh hits in the local tier.
        local_hits,
        /// Fresh hits in the remote tier.
        remote_hits,
        /// Calls that found nothing usable in any tier.
        misses,
        /// Loader calls (first loads and refreshes).
        loads,
        /// Loader calls that returned an error.
        load_errors,
        /// Callers that waited for another caller's load instead of loading.
        coalesced,
        /// Stale values served while another caller refreshed or the loader was slow.
        stale_served,
        /// Stale values served because the loader failed.
        fail_safe,
        /// Refreshes started before expiry by probabilistic early refresh.
        early_refreshes,
        /// Calls that bypassed the cache because its flag is off.
        bypassed,
        /// Tier or codec failures (each also counted as a miss).
        errors,
        /// Entries that could not be decoded and were dropped.
        corrupt_entries,
        /// Times this process waited for another process's stampede lease.
        lease_waits,
        /// Loaded or found values not stored because an invalidation or a newer write of the
        /// key overtook them (the fence held).
        fenced_fills,
        /// Shadow-mode comparisons where the cached value matched the fresh one.
        shadow_matches,
        /// Shadow-mode comparisons where the cached value differed from the fresh one.
        shadow_mismatches,
    }
}

impl Stats {
    /// Counts a hit in `tier`; inlined so a constant tier picks its counter at compile time.
    #[inline]
    pub(crate) fn hit(&self, tier: TierName) {
        Stats::bump(match tier {
            TierName::Request => &self.request_hits,
            TierName::Local => &self.local_hits,
            TierName::Remote => &self.remote_hits,
        });
    }
}
