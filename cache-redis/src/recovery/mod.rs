//! Auto-recovery: invalidations (and writes, as deletes) that fail because Redis is
//! unreachable wait in a bounded queue (one slot per key, tag or event: the newest operation
//! wins) and are replayed once Redis answers again; then every replayed change is announced on
//! the backplane, so nodes that cached a value invalidated during the outage drop it.
//!
//! Replays are idempotent (`UNLINK`, tag deletion) and never bring an old value back: a write
//! that failed is replayed as a delete, because by the time Redis answers something newer may
//! have happened to the key on another node; a load's fill that failed is not queued at all.
//! A successful live write of a key removes its queued operation (it is newer). When the queue
//! overflows, operations are dropped and, after recovery, every node is told to clear its
//! local tier.

mod queue;

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::watch;

pub(crate) use self::queue::{Op, Queue};
use crate::backplane::Wire;
use crate::call::Failure;
use crate::health::Counters;
use crate::tier::Inner;

impl Inner {
    /// Queues a change that failed because Redis was unreachable.
    pub(crate) fn enqueue(&self, op: Op) {
        if self.recovery.push(op) {
            Counters::bump(&self.counters.queued);
        } else {
            Counters::bump(&self.counters.queue_dropped);
            tracing::warn!("Redis recovery queue full; local tiers will be cleared on recovery");
        }
        self.recovery.wake();
    }

    /// Replays the queue; `false` if Redis is still unreachable (what is left stays queued).
    async fn replay(&self) -> bool {
        if self
            .call(self.conn.query::<()>(&redis::cmd("PING")))
            .await
            .is_err()
        {
            return false;
        }
        let (ops, overflowed) = self.recovery.take();
        let applied = self.apply_all(ops, overflowed).await;
        let done = applied.is_some();
        if let Some(announce) = applied {
            for wire in announce {
                if let Err(Failure::Outage(_)) = self.send(&wire.clone().into()).await {
                    self.recovery.put_back(Op::Publish(wire));
                }
            }
            tracing::info!("Redis recovery queue replayed");
        }
        // Only now: until the changes are applied *and announced*, they still cover their
        // keys and count as pending.
        self.recovery.replayed();
        done && self.recovery.len() == 0
    }

    /// Applies `ops` in order; on an outage puts the rest back and returns `None`, else what
    /// other nodes must hear.
    async fn apply_all(&self, ops: Vec<Op>, overflowed: bool) -> Option<Vec<Wire>> {
        let mut announce: Vec<Wire> = Vec::new();
        let mut ops = ops.into_iter();
        while let Some(op) = ops.next() {
            match self.apply(&op).await {
                Err(Failure::Outage(_)) => {
                    for op in std::iter::once(op).chain(ops) {
                        self.recovery.put_back(op);
                    }
                    if overflowed {
                        self.recovery.put_back(Op::Publish(Wire::Clear));
                    }
                    return None;
                }
                Ok(()) | Err(Failure::Reply(_)) => {
                    Counters::bump(&self.counters.replayed);
                    let wire = op.announcement();
                    if !announce.contains(&wire) {
                        announce.push(wire);
                    }
                }
            }
        }
        Some(if overflowed {
            vec![Wire::Clear]
        } else {
            announce
        })
    }

    async fn apply(&self, op: &Op) -> Result<(), Failure> {
        match op {
            Op::Delete(key) => self.unlink(key).await,
            Op::DropTag(tag) => self.drop_tag(tag).await,
            Op::Publish(_) => Ok(()),
        }
    }
}

/// Replays the queue whenever it is not empty, probing every `interval` until Redis answers.
/// Holds the tier only while replaying, so dropping the tier ends the task.
pub(crate) fn spawn(inner: &Arc<Inner>, mut shutdown: watch::Receiver<()>, interval: Duration) {
    let weak: Weak<Inner> = Arc::downgrade(inner);
    let queue = Arc::clone(&inner.recovery);
    tokio::spawn(async move {
        loop {
            let idle = match weak.upgrade() {
                Some(inner) => inner.recovery.len() == 0 || inner.replay().await,
                None => return,
            };
            tokio::select! {
                _ = queue.wake.notified(), if idle => {}
                _ = tokio::time::sleep(interval), if !idle => {}
                _ = shutdown.changed() => return,
            }
        }
    });
}
