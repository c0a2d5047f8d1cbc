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

pub(crate) use self::queue::Op;
use self::queue::Queue;
use crate::backplane::{Backplane, Wire};
use crate::client::{Client, Failure};
use crate::health::{RedisStats, layer_counters};
use crate::tags::Tags;

layer_counters! {
    /// What was queued, replayed and dropped.
    RecoveryCounters {
        queued,
        replayed,
        queue_dropped,
    }
}

/// How often [`Recovery::drain`] looks whether the replay finished.
const DRAIN_POLL: Duration = Duration::from_millis(20);

/// The recovery queue and its replay task (stopped when this is dropped).
pub(crate) struct Recovery {
    client: Arc<Client>,
    tags: Arc<Tags>,
    backplane: Arc<Backplane>,
    queue: Queue,
    counters: RecoveryCounters,
    /// Dropped with the recovery; its receiver stops the task.
    _shutdown: watch::Sender<()>,
}

impl Recovery {
    /// Starts the replay task.
    pub(crate) fn start(
        client: Arc<Client>,
        tags: Arc<Tags>,
        backplane: Arc<Backplane>,
    ) -> Arc<Recovery> {
        let (shutdown, stopped) = watch::channel(());
        let recovery = Arc::new(Recovery {
            queue: Queue::new(client.config().recovery_queue_size),
            counters: RecoveryCounters::default(),
            _shutdown: shutdown,
            client,
            tags,
            backplane,
        });
        spawn(&recovery, stopped);
        recovery
    }

    /// `result` as the engine sees it; queues `op` first if it failed because Redis was
    /// unreachable.
    pub(crate) fn settle(
        &self,
        result: Result<(), Failure>,
        op: impl FnOnce() -> Op,
    ) -> cache_core::Result<()> {
        match result {
            Err(Failure::Outage(error)) => {
                self.enqueue(op());
                Err(error.into())
            }
            other => other.map_err(Into::into),
        }
    }

    /// Queues a change that failed because Redis was unreachable.
    pub(crate) fn enqueue(&self, op: Op) {
        if self.queue.push(op) {
            RecoveryCounters::bump(&self.counters.queued);
        } else {
            RecoveryCounters::bump(&self.counters.queue_dropped);
            tracing::warn!("Redis recovery queue full; local tiers will be cleared on recovery");
        }
        self.queue.wake();
    }

    /// Whether a queued change may cover `key` (see [`Queue::covers`]).
    pub(crate) fn covers(&self, key: &str) -> bool {
        self.queue.covers(key)
    }

    /// Whether no key is covered at all (nothing queued or replaying): a batch read checks
    /// this once instead of every key.
    pub(crate) fn idle(&self) -> bool {
        self.queue.idle()
    }

    /// Forgets what is queued for `key`: a live write just superseded it.
    pub(crate) fn forget_key(&self, key: &str) {
        self.queue.forget_key(key);
    }

    /// Forgets what is queued for `tag`: a live invalidation just superseded it.
    pub(crate) fn forget_tag(&self, tag: &str) {
        self.queue.forget_tag(tag);
    }

    /// Operations not applied and announced yet.
    pub(crate) fn pending(&self) -> usize {
        self.queue.pending()
    }

    /// Waits, at most `within`, until every queued change is applied and announced; returns
    /// how many are still pending (0: all of them). The replay task does the work — it is woken
    /// here and retries on its own schedule while Redis is unreachable — so a second replayer
    /// never races it.
    pub(crate) async fn drain(&self, within: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let pending = self.pending();
            if pending == 0 || tokio::time::Instant::now() >= deadline {
                return pending;
            }
            self.queue.wake();
            tokio::time::sleep(DRAIN_POLL.min(within)).await;
        }
    }

    /// Fills in the counters this layer keeps.
    pub(crate) fn stats(&self, stats: &mut RedisStats) {
        self.counters.fill(stats);
    }

    /// Replays the queue; `false` if Redis is still unreachable (what is left stays queued).
    async fn replay(&self) -> bool {
        if self.client.query::<()>(&redis::cmd("PING")).await.is_err() {
            return false;
        }
        let (ops, overflowed) = self.queue.take();
        let applied = self.apply_all(ops, overflowed).await;
        let done = applied.is_some();
        if let Some(announce) = applied {
            for wire in announce {
                if let Err(Failure::Outage(_)) = self.backplane.publish(&wire.clone().into()).await
                {
                    self.queue.put_back(Op::Publish(wire));
                }
            }
            tracing::info!("Redis recovery queue replayed");
        }
        // Only now: until the changes are applied *and announced*, they still cover their
        // keys and count as pending.
        self.queue.replayed();
        done && self.queue.len() == 0
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
                        self.queue.put_back(op);
                    }
                    if overflowed {
                        self.queue.put_back(Op::Publish(Wire::Clear));
                    }
                    return None;
                }
                Ok(()) | Err(Failure::Reply(_)) => {
                    RecoveryCounters::bump(&self.counters.replayed);
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
            Op::Delete(key) => self.client.unlink(key).await,
            Op::DropTag(tag) => self.tags.invalidate(tag).await,
            Op::Publish(_) => Ok(()),
        }
    }
}

/// Replays the queue whenever it is not empty, probing every `recovery_interval` until Redis
/// answers; woken by a queued change or by the breaker closing. Holds the recovery only while
/// replaying, so dropping it ends the task.
fn spawn(recovery: &Arc<Recovery>, mut shutdown: watch::Receiver<()>) {
    let weak: Weak<Recovery> = Arc::downgrade(recovery);
    let client = Arc::clone(&recovery.client);
    let interval = client.config().recovery_interval;
    let woken = recovery.queue.woken();
    tokio::spawn(async move {
        loop {
            let idle = match weak.upgrade() {
                Some(recovery) => recovery.queue.len() == 0 || recovery.replay().await,
                None => return,
            };
            tokio::select! {
                _ = woken.notified(), if idle => {}
                _ = client.recovered().notified(), if idle => {}
                _ = tokio::time::sleep(interval), if !idle => {}
                _ = shutdown.changed() => return,
            }
        }
    });
}
