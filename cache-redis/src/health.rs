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
    /// Whether key tracking is enabled on every tracked server; `None` when the tier does not
    /// track keys (see [`Invalidation`](crate::Invalidation)).
    pub tracking_connected: Option<bool>,
    /// Invalidations (and writes, as deletes) not yet replayed and announced after an outage,
    /// including those a replay in progress is applying.
    pub queued_operations: usize,
}

/// Counters of what the tier did (see [`RedisTier::stats`](crate::RedisTier::stats)). Each
/// layer of the tier counts its own events; the snapshot gathers them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisStats {
    /// Values not written because they exceeded `max_value_size`.
    pub oversized_skipped: u64,
    /// Calls refused without touching the network because the breaker was open.
    pub fail_fast: u64,
    /// Calls that timed out.
    pub timeouts: u64,
    /// Times the breaker opened.
    pub breaker_opened: u64,
    /// Operations put in the recovery queue.
    pub queued: u64,
    /// Queued operations replayed after recovery.
    pub replayed: u64,
    /// Operations dropped because the recovery queue was full.
    pub queue_dropped: u64,
    /// Backplane events delivered to listeners (from other nodes).
    pub events_received: u64,
    /// Times the backplane subscription was (re-)established.
    pub subscriptions: u64,
    /// Local tiers cleared because the backplane was down longer than `backplane_trust`.
    pub untrusted_clears: u64,
    /// Error replies saying Redis cannot serve right now (`LOADING`, `BUSY`, `READONLY`,
    /// `MASTERDOWN`, …): handled like an outage (queued, a breaker failure).
    pub unavailable_replies: u64,
    /// Connections dropped after a `READONLY` reply so that the next command reconnects.
    pub readonly_reconnects: u64,
    /// Commands refused for lack of permission (`NOPERM`) or refused credentials.
    pub permission_errors: u64,
    /// Other error replies and unexpected replies (`ERR`, `WRONGTYPE`, …): not retried.
    pub error_replies: u64,
    /// Changed keys Redis reported through key tracking (this node's own writes included),
    /// each dropped locally.
    pub tracking_invalidations: u64,
    /// Flushes (`FLUSHALL`, `FLUSHDB`) Redis reported through key tracking, each clearing the
    /// local tier.
    pub tracking_flushes: u64,
    /// Times key tracking was (re-)enabled on every tracked server.
    pub tracking_subscriptions: u64,
    /// Local tiers cleared because key tracking was down longer than `backplane_trust`.
    pub tracking_untrusted_clears: u64,
}

/// Declares a layer's own counters: plain atomics (every event they count costs a Redis round
/// trip, so contention on them is noise), private to the layer that declares them, and `fill`
/// to copy them into [`RedisStats`].
macro_rules! layer_counters {
    ($(#[$doc:meta])* $name:ident { $($field:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Default)]
        pub(crate) struct $name {
            $($field: std::sync::atomic::AtomicU64,)*
        }

        impl $name {
            pub(crate) fn bump(counter: &std::sync::atomic::AtomicU64) {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }

            #[allow(dead_code)]
            pub(crate) fn get(counter: &std::sync::atomic::AtomicU64) -> u64 {
                counter.load(std::sync::atomic::Ordering::Relaxed)
            }

            /// Copies these counters into their fields of `stats`.
            pub(crate) fn fill(&self, stats: &mut $crate::health::RedisStats) {
                $(stats.$field = self.$field.load(std::sync::atomic::Ordering::Relaxed);)*
            }
        }
    };
}

pub(crate) use layer_counters;
