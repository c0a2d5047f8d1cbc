//! The bounded, de-duplicating queue of changes waiting for Redis to come back.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::backplane::Wire;

/// A change that could not be made while Redis was unreachable.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Delete(String),
    DropTag(String),
    Publish(Wire),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot {
    Key(String),
    Tag(String),
    Event(Wire),
}

impl Op {
    fn slot(&self) -> Slot {
        match self {
            Op::Delete(key) => Slot::Key(key.clone()),
            Op::DropTag(tag) => Slot::Tag(tag.clone()),
            Op::Publish(wire) => Slot::Event(wire.clone()),
        }
    }

    /// What other nodes must hear once this change is made.
    pub(super) fn announcement(&self) -> Wire {
        match self {
            Op::Delete(key) => Wire::Invalidate(key.clone()),
            Op::DropTag(tag) => Wire::InvalidateTag(tag.clone()),
            Op::Publish(wire) => wire.clone(),
        }
    }
}

#[derive(Default)]
struct State {
    ops: HashMap<Slot, (u64, Op)>,
    next: u64,
    overflowed: bool,
}

pub(super) struct Queue {
    state: Mutex<State>,
    len: AtomicUsize,
    capacity: usize,
    /// How many operations the replay in progress took: until they are applied and
    /// announced they still count as pending and cover their keys (see [`covers`](Queue::covers)).
    in_replay: AtomicUsize,
    wake: Arc<Notify>,
}

impl Queue {
    pub(super) fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::default(),
            len: AtomicUsize::new(0),
            capacity,
            in_replay: AtomicUsize::new(0),
            wake: Arc::new(Notify::new()),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Operations not applied and announced yet: queued, plus those a replay in progress took.
    pub(super) fn pending(&self) -> usize {
        self.len() + self.in_replay.load(Acquire)
    }

    /// Wakes the recovery task: something was queued.
    pub(super) fn wake(&self) {
        self.wake.notify_one();
    }

    /// What [`wake`](Queue::wake) notifies.
    pub(super) fn woken(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Queues `op`; `false` if it was dropped because the queue is full.
    pub(super) fn push(&self, op: Op) -> bool {
        let mut state = self.state.lock();
        let slot = op.slot();
        if !state.ops.contains_key(&slot) && state.ops.len() >= self.capacity {
            state.overflowed = true;
            return false;
        }
        state.next += 1;
        let entry = (state.next, op);
        state.ops.insert(slot, entry);
        self.len.store(state.ops.len(), Relaxed);
        true
    }

    /// Queues `op` unless a newer operation took its slot meanwhile.
    pub(super) fn put_back(&self, op: Op) {
        if !self.state.lock().ops.contains_key(&op.slot()) {
            self.push(op);
        }
    }

    /// Nothing queued and nothing replaying: no key is covered.
    pub(super) fn idle(&self) -> bool {
        // `len` first: `take` stores it after `in_replay`, so a reader that sees the queue
        // emptied by a take also sees the replay in progress.
        self.len.load(Acquire) == 0 && self.in_replay.load(Acquire) == 0
    }

    /// Whether a queued change may cover `key`: a delete of it, or any tag invalidation or
    /// clear (the entry's tags are unknown here). Until it is replayed, what Redis holds under
    /// `key` may be what this node already invalidated, so reads must not trust it.
    pub(super) fn covers(&self, key: &str) -> bool {
        if self.idle() {
            return false;
        }
        // Under the lock, where `take` moves operations from the queue to the replay in one
        // step: checked apart, an operation could be in neither when looked at.
        let state = self.state.lock();
        if self.in_replay.load(Acquire) > 0 {
            return true;
        }
        state.ops.keys().any(|slot| match slot {
            Slot::Key(queued) => queued == key,
            Slot::Tag(_)
            | Slot::Event(Wire::InvalidateTag(_) | Wire::Clear | Wire::Cleared(..)) => true,
            Slot::Event(Wire::Invalidate(queued)) => queued == key,
        })
    }

    /// Forgets what is queued for `key`: a live write just superseded it.
    pub(super) fn forget_key(&self, key: &str) {
        self.forget(Slot::Key(key.to_string()));
    }

    pub(super) fn forget_tag(&self, tag: &str) {
        self.forget(Slot::Tag(tag.to_string()));
    }

    fn forget(&self, slot: Slot) {
        if self.len() == 0 {
            return;
        }
        let mut state = self.state.lock();
        state.ops.remove(&slot);
        self.len.store(state.ops.len(), Relaxed);
    }

    /// The operations taken by [`take`](Queue::take) are applied (or put back).
    pub(super) fn replayed(&self) {
        self.in_replay.store(0, Release);
    }

    /// Everything queued, oldest first, and whether anything was dropped. Until
    /// [`replayed`](Queue::replayed), every key counts as covered.
    pub(super) fn take(&self) -> (Vec<Op>, bool) {
        let mut state = self.state.lock();
        self.in_replay.store(state.ops.len(), Release);
        let mut ops: Vec<(u64, Op)> = state.ops.drain().map(|(_, v)| v).collect();
        let overflowed = std::mem::take(&mut state.overflowed);
        self.len.store(0, Release);
        ops.sort_by_key(|(seq, _)| *seq);
        (ops.into_iter().map(|(_, op)| op).collect(), overflowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_operation_per_key_wins_and_order_is_kept() {
        let queue = Queue::new(10);
        assert!(queue.push(Op::Delete("a".into())));
        assert!(queue.push(Op::DropTag("t".into())));
        assert!(queue.push(Op::Delete("a".into())));
        assert_eq!(queue.len(), 2);
        let (ops, overflowed) = queue.take();
        assert!(!overflowed);
        assert!(matches!(&ops[0], Op::DropTag(t) if t == "t"));
        assert!(matches!(&ops[1], Op::Delete(k) if k == "a"));
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn bounded_by_count() {
        let queue = Queue::new(2);
        assert!(queue.push(Op::Delete("a".into())));
        assert!(queue.push(Op::Delete("b".into())));
        assert!(!queue.push(Op::Delete("c".into())), "full");
        assert!(
            queue.push(Op::Delete("a".into())),
            "an existing slot is replaced"
        );
        let (ops, overflowed) = queue.take();
        assert!(overflowed);
        assert!(matches!(&ops[0], Op::Delete(k) if k == "b"));
    }

    #[test]
    fn live_writes_supersede_queued_ones() {
        let queue = Queue::new(10);
        queue.push(Op::Delete("a".into()));
        queue.push(Op::DropTag("t".into()));
        queue.forget_key("a");
        queue.forget_tag("t");
        assert_eq!(queue.len(), 0);
        queue.push(Op::Publish(Wire::Clear));
        queue.put_back(Op::Publish(Wire::Clear));
        assert_eq!(queue.len(), 1);
    }
}
