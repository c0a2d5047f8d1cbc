//! The bounded, de-duplicating queue of changes waiting for Redis to come back.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::backplane::Wire;

/// A change that could not be made while Redis was unreachable.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Set {
        key: String,
        value: Vec<u8>,
        expires_at: Instant,
        tags: Vec<Arc<str>>,
    },
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
            Op::Set { key, .. } | Op::Delete(key) => Slot::Key(key.clone()),
            Op::DropTag(tag) => Slot::Tag(tag.clone()),
            Op::Publish(wire) => Slot::Event(wire.clone()),
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Op::Set { value, .. } => value.len(),
            _ => 0,
        }
    }

    /// What other nodes must hear once this change is made.
    pub(super) fn announcement(&self) -> Wire {
        match self {
            Op::Set { key, .. } | Op::Delete(key) => Wire::Invalidate(key.clone()),
            Op::DropTag(tag) => Wire::InvalidateTag(tag.clone()),
            Op::Publish(wire) => wire.clone(),
        }
    }
}

#[derive(Default)]
struct State {
    ops: HashMap<Slot, (u64, Op)>,
    next: u64,
    bytes: usize,
    overflowed: bool,
}

pub(crate) struct Queue {
    state: Mutex<State>,
    len: AtomicUsize,
    capacity: usize,
    byte_budget: usize,
    pub(super) wake: Notify,
}

impl Queue {
    pub(crate) fn new(capacity: usize, byte_budget: usize) -> Queue {
        Queue {
            state: Mutex::default(),
            len: AtomicUsize::new(0),
            capacity,
            byte_budget,
            wake: Notify::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Wakes the recovery task (Redis answered, or something was queued).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Queues `op`; `false` if it was dropped because the queue is full.
    pub(super) fn push(&self, mut op: Op) -> bool {
        let mut state = self.state.lock();
        if let Op::Set { key, .. } = &op
            && state.bytes + op.bytes() > self.byte_budget
        {
            op = Op::Delete(key.clone());
        }
        let slot = op.slot();
        if !state.ops.contains_key(&slot) && state.ops.len() >= self.capacity {
            state.overflowed = true;
            return false;
        }
        state.next += 1;
        state.bytes += op.bytes();
        let entry = (state.next, op);
        if let Some((_, old)) = state.ops.insert(slot, entry) {
            state.bytes -= old.bytes();
        }
        self.len.store(state.ops.len(), Relaxed);
        true
    }

    /// Queues `op` unless a newer operation took its slot meanwhile.
    pub(super) fn put_back(&self, op: Op) {
        if !self.state.lock().ops.contains_key(&op.slot()) {
            self.push(op);
        }
    }

    /// Forgets what is queued for `key`: a live write just superseded it.
    pub(crate) fn forget_key(&self, key: &str) {
        self.forget(Slot::Key(key.to_string()));
    }

    pub(crate) fn forget_tag(&self, tag: &str) {
        self.forget(Slot::Tag(tag.to_string()));
    }

    fn forget(&self, slot: Slot) {
        if self.len() == 0 {
            return;
        }
        let mut state = self.state.lock();
        if let Some((_, old)) = state.ops.remove(&slot) {
            state.bytes -= old.bytes();
        }
        self.len.store(state.ops.len(), Relaxed);
    }

    /// Everything queued, oldest first, and whether anything was dropped.
    pub(super) fn take(&self) -> (Vec<Op>, bool) {
        let mut state = self.state.lock();
        let mut ops: Vec<(u64, Op)> = state.ops.drain().map(|(_, v)| v).collect();
        let overflowed = std::mem::take(&mut state.overflowed);
        state.bytes = 0;
        self.len.store(0, Relaxed);
        ops.sort_by_key(|(seq, _)| *seq);
        (ops.into_iter().map(|(_, op)| op).collect(), overflowed)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn set(key: &str, value: &[u8]) -> Op {
        Op::Set {
            key: key.into(),
            value: value.to_vec(),
            expires_at: Instant::now() + Duration::from_secs(60),
            tags: Vec::new(),
        }
    }

    #[test]
    fn newest_operation_per_key_wins_and_order_is_kept() {
        let queue = Queue::new(10, 1 << 20);
        assert!(queue.push(set("a", b"1")));
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
    fn bounded_by_count_and_bytes() {
        let queue = Queue::new(2, 4);
        assert!(queue.push(set("a", b"123")));
        assert!(
            queue.push(set("b", b"456")),
            "over the byte budget: queued as a delete"
        );
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
        let queue = Queue::new(10, 1 << 20);
        queue.push(set("a", b"old"));
        queue.push(Op::DropTag("t".into()));
        queue.forget_key("a");
        queue.forget_tag("t");
        assert_eq!(queue.len(), 0);
        queue.put_back(Op::Delete("x".into()));
        queue.push(set("x", b"new"));
        queue.put_back(Op::Delete("x".into()));
        assert!(matches!(&queue.take().0[0], Op::Set { .. }));
    }
}
