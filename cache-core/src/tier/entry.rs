//! One entry of the local tier: a decoded value with its lifetimes, tags and provenance.
//! moka holds it, per-thread fronts share it, and the engine's fences stamp it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::remote::Token;
use super::{SharedValue, Ticket};
use crate::codec::EntryMeta;

/// Fixed per-entry overhead added to the weight (map slot, Arcs, metadata).
const ENTRY_OVERHEAD: u32 = 96;

/// One decoded value with its lifetimes.
///
/// In declaration order (`repr(C)`), the fields every front hit reads first: `retired`,
/// `admitted` and `meta` share the first 32 bytes, so they are one cache line more often than
/// not; the value's own pointer is kept in the front's slot.
#[repr(C)]
pub(crate) struct LocalEntry {
    /// Set once moka has removed or replaced the entry; per-thread fronts check it.
    retired: AtomicBool,
    /// Its envelope's length before compression, standing for the decoded value's size; with
    /// the key and a fixed overhead, what it is charged (see [`LocalEntry::charge`]).
    pub(crate) weight: u32,
    /// The fence clock when this entry was admitted (or last found valid): the engine
    /// re-checks it after a tag invalidation or clear (see `Fences::entry_valid`).
    admitted: AtomicU64,
    pub(crate) meta: EntryMeta,
    pub(crate) value: SharedValue,
    /// The entry's tags; `None` when it was backfilled by a read that did not know them (a
    /// plain `get`), in which case every tag invalidation drops it to stay correct.
    pub(crate) tags: Option<Arc<[Arc<str>]>>,
    /// The remote write this value came from (or went to), when known: a refresh of this
    /// entry writes to the remote tier only while that write is still in place.
    pub(crate) token: Option<Token>,
}

impl LocalEntry {
    pub(crate) fn new(
        value: SharedValue,
        meta: EntryMeta,
        weight: usize,
        tags: Option<Arc<[Arc<str>]>>,
        token: Option<Token>,
    ) -> LocalEntry {
        LocalEntry {
            value,
            meta,
            weight: u32::try_from(weight).unwrap_or(u32::MAX),
            tags,
            token,
            retired: AtomicBool::new(false),
            admitted: AtomicU64::new(0),
        }
    }

    /// What the entry costs under `key` (of `key_len` bytes), in moka and in a front alike.
    pub(crate) fn charge(&self, key_len: usize) -> u32 {
        self.weight
            .saturating_add(u32::try_from(key_len).unwrap_or(u32::MAX))
            .saturating_add(ENTRY_OVERHEAD)
    }

    pub(crate) fn admitted(&self) -> u64 {
        self.admitted.load(Ordering::Acquire)
    }

    /// The ticket of a read that found this entry: its admission clock, which is no later
    /// than the read (an invalidation after it has a newer tombstone).
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket::at(self.admitted())
    }

    pub(crate) fn set_admitted(&self, clock: u64) {
        self.admitted.store(clock, Ordering::Release);
    }

    pub(crate) fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Release);
    }
}
