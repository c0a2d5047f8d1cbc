//! What [`RedisTier::health`](crate::RedisTier::health) and
//! [`RedisTier::stats`](crate::RedisTier::stats) report.

/// The circuit breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BreakerState {
    /// Redis answers.
    Up,
    /// Some recent calls failed, fewer than the threshold in a row.
    Degraded,
    /// Calls fail fast without touching the network until the cool-down ends.
    BreakerOpen,
    /// One probe is in flight after the cool-down; others still fail fast.
    Probing,
}

/// A snapshot of the tier's health.
///
/// ```no_run
/// # async fn run() -> Result<(), cache_redis::Error> {
/// let tier = cache_redis::RedisTier::connect("redis://127.0.0.1:6379").await?;
/// let health = tier.health();
/// if let Some(warning) = &health.maxmemory_policy_warning {
///     eprintln!("{warning}");
/// }
/// println!("{:?}, {} operations waiting for replay", health.state, health.queued_operations);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// The circuit breaker's state.
    pub state: BreakerState,
    /// Set when the server's `maxmemory-policy` is a poor fit for a cache (checked at connect).
    pub maxmemory_policy_warning: Option<String>,
    /// Whether the backplane subscriber currently holds a subscription.
    pub backplane_connected: bool,
    /// Invalidations (and writes, as deletes) not yet replayed and announced after an outage,
    /// including those a replay in progress is applying.
    pub queued_operations: usize,
}

cache_core::__atomic_counters! {
    /// Counters of what the tier did (see [`RedisTier::stats`](crate::RedisTier::stats)).
    Counters => RedisStats {
        /// Values not written because they exceeded `max_value_size`.
        oversized_skipped,
        /// Calls refused without touching the network because the breaker was open.
        fail_fast,
        /// Calls that timed out.
        timeouts,
        /// Times the breaker opened.
        breaker_opened,
        /// Operations put in the recovery queue.
        queued,
        /// Queued operations replayed after recovery.
        replayed,
        /// Operations dropped because the recovery queue was full.
        queue_dropped,
        /// Backplane events delivered to listeners (from other nodes).
        events_received,
        /// Times the backplane subscription was (re-)established.
        subscriptions,
        /// Local tiers cleared because the backplane was down longer than `backplane_trust`.
        untrusted_clears,
        /// Error replies saying Redis cannot serve right now (`LOADING`, `BUSY`, `READONLY`,
        /// `MASTERDOWN`, …): handled like an outage (queued, a breaker failure).
        unavailable_replies,
        /// Connections dropped after a `READONLY` reply so that the next command reconnects.
        readonly_reconnects,
        /// Commands refused for lack of permission (`NOPERM`) or refused credentials.
        permission_errors,
        /// Other error replies and unexpected replies (`ERR`, `WRONGTYPE`, …): not retried.
        error_replies,
    }
}
