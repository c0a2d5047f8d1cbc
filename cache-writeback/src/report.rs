//! What a flush pass reports ([`FlushReport`]) and what waits in Redis ([`Backlog`]).

use std::time::Duration;

/// What one call of [`WriteBack::flush_now`](crate::WriteBack::flush_now) (or
/// [`drain`](crate::WriteBack::drain)) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlushReport {
    /// Batches the sink accepted (and that were acknowledged).
    pub batches: u64,
    /// Entity change sets in them.
    pub entities: u64,
    /// Deliveries the sink refused; each batch comes back after its backoff.
    pub failures: u64,
    /// Redis errors (the pass skipped the rest of that shard).
    pub redis_errors: u64,
    /// Batch records found expired before the sink accepted them.
    pub lost: u64,
    /// Claims the replicas did not confirm in time: put back undelivered (the pass then
    /// skips the rest of that shard).
    pub unreplicated: u64,
}

impl FlushReport {
    pub(crate) fn add(&mut self, other: FlushReport) {
        self.batches += other.batches;
        self.entities += other.entities;
        self.failures += other.failures;
        self.redis_errors += other.redis_errors;
        self.lost += other.lost;
        self.unreplicated += other.unreplicated;
    }
}

/// A fresh reading of what waits in Redis ([`WriteBack::backlog`](crate::WriteBack::backlog)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backlog {
    /// Dirty entities not yet in a batch.
    pub pending_entities: u64,
    /// Batches claimed or waiting for a retry, not yet acknowledged.
    pub inflight_batches: u64,
    /// Age of the oldest change not yet accepted by the sink.
    pub oldest_pending_age: Duration,
}

impl Backlog {
    /// Nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending_entities == 0 && self.inflight_batches == 0
    }
}
