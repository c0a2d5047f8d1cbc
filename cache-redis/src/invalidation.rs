//! [`Invalidation`]: how a node hears that a key changed, chosen with
//! [`RedisTierBuilder::invalidation`](crate::RedisTierBuilder::invalidation).

/// How a node learns that another node (or another program) changed a key, so it drops its
/// local copy.
///
/// * [`Backplane`](Invalidation::Backplane) (the default): every `invalidate`, `set` and tag
///   invalidation of this framework is announced with one `PUBLISH` that every node receives.
///   Cheapest when only this framework writes the keys: one message per change, nothing per
///   read, and a node's own writes never come back to it.
/// * [`Tracking`](Invalidation::Tracking): Redis itself tells every node which keys under
///   [`RedisConfig::tracking_prefix`](crate::RedisConfig::tracking_prefix) changed
///   (`CLIENT TRACKING ON BCAST PREFIX`, RESP3 pushes on a dedicated connection, one per
///   Cluster primary), *whoever* changed them: another service's `SET`, a `DEL` by hand, a
///   `FLUSHALL`, an expiry or an eviction. Per-key announcements are no longer published (tag
///   and clear announcements still are). The price: a node's own writes come back to it too
///   (Redis cannot tell them apart), so right after a `set` or a fill the node drops its fresh
///   local copy and its next read of that key is a Redis hit that refills it; and a fill
///   also changes the key twice (lease, then value). Choose it when other programs write the
///   namespace, and reads outnumber writes. Limit: an entry that never reached Redis (a
///   `tiers` option without Redis, or a fill Redis refused during an outage) is not dropped
///   on other nodes by `invalidate`, since nothing changed in Redis; use `Both` for that.
/// * [`Both`](Invalidation::Both): tracking, and per-key announcements on the backplane as
///   well. Costs the sum of the two; covers entries that never reached Redis too.
///
/// Measured (`cargo bench -p benches --bench tracking`, two nodes, 200 keys, one loopback
/// `redis-server`, a 2-core machine under load): the local hit ratio of reads is 0.954
/// (backplane) against 0.952 (tracking) with 5 % writes, and 0.665 against 0.632 with 50 %
/// writes, i.e. own writes coming back cost about 0.002 and 0.03 Redis reads per read, since
/// the report usually lands before the node's local store. Messages: one `PUBLISH` per write
/// (delivered to each node) against no command and one push per write to each node. Time per
/// batch, alternating modes: tracking takes 0.86x the backplane's with 5 % writes and 0.56x
/// with 50 % writes (a write saves its `PUBLISH` round trip). So: `Tracking` if anything else
/// writes the namespace; `Backplane` if only this framework writes it and entries may live
/// outside Redis; `Both` if both hold.
///
/// ```
/// use cache_redis::{Invalidation, RedisTier};
/// let config = RedisTier::builder("redis://127.0.0.1:6379")
///     .invalidation(Invalidation::Tracking)
///     .tracking_prefix("app:")
///     .config()
///     .unwrap();
/// assert!(config.invalidation.tracks());
/// assert!(!config.invalidation.publishes_keys());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Invalidation {
    /// Per-key announcements on the pub/sub backplane (the default).
    #[default]
    Backplane,
    /// Redis key tracking of the namespace; the backplane carries tag and clear announcements.
    Tracking,
    /// Key tracking and per-key announcements on the backplane.
    Both,
}

impl Invalidation {
    /// Whether the tier tracks the keys under the tracking prefix.
    pub fn tracks(self) -> bool {
        matches!(self, Invalidation::Tracking | Invalidation::Both)
    }

    /// Whether the tier announces each changed key on the backplane.
    pub fn publishes_keys(self) -> bool {
        matches!(self, Invalidation::Backplane | Invalidation::Both)
    }
}
