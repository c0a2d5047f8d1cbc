//! One entry of the local tier: a decoded value with its lifetimes, tags and provenance.
//! moka holds it, per-thread fronts share it, and the engine's fences stamp it.
//!
//! The value lives inside the entry (`LocalEntry<dyn Any>`: one allocation per entry, not one
//! for the entry and one for the value), and the fields are laid out to keep that allocation
//! small: a million entries pay for every word here.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Ticket;
use super::remote::Token;
use crate::codec::EntryMeta;

/// Fixed per-entry overhead added to the weight (map slot, Arcs, metadata).
const ENTRY_OVERHEAD: u32 = 96;

/// The bit of [`LocalEntry::state`] set once moka has removed or replaced the entry; the
/// other bits hold the admission clock.
const RETIRED: u64 = 1 << 63;

/// One decoded value with its lifetimes; `V` is the value's type until the entry is shared,
/// then `dyn Any` (see [`LocalEntry::shared`]).
pub(crate) struct LocalEntry<V: ?Sized = dyn Any + Send + Sync> {
    /// [`EntryMeta`]'s fields, kept apart so `weight` fills what would be its padding.
    fresh_until_ms: u64,
    stale_until_ms: u64,
    load_micros: u32,
    /// Its envelope's length before compression, standing for the decoded value's size; with
    /// the key and a fixed overhead, what it is charged (see [`LocalEntry::charge`]).
    pub(crate) weight: u32,
    /// The entry's tags; `None` when it was backfilled by a read that did not know them (a
    /// plain `get`), in which case every tag invalidation drops it to stay correct.
    pub(crate) tags: Option<Arc<[Arc<str>]>>,
    /// The remote write this value came from (or went to), when known: a refresh of this
    /// entry writes to the remote tier only while that write is still in place.
    pub(crate) token: Option<Token>,
    /// The fence clock when this entry was admitted (or last found valid), which the engine
    /// re-checks after a tag invalidation or clear (see `Fences::entry_valid`), and the
    /// [`RETIRED`] bit, which per-thread fronts check. One word: both change after the entry
    /// is shared.
    state: AtomicU64,
    /// Last, so that it can be unsized to `dyn Any`.
    pub(crate) value: V,
}

impl LocalEntry {
    /// An entry holding `value`, type-erased, in one allocation; admitted at clock 0 until
    /// [`set_admitted`](Self::set_admitted) stamps it.
    pub(crate) fn shared<T: Any + Send + Sync>(
        value: T,
        meta: EntryMeta,
        weight: usize,
        tags: Option<Arc<[Arc<str>]>>,
        token: Option<Token>,
    ) -> Arc<LocalEntry> {
        Arc::new(LocalEntry {
            fresh_until_ms: meta.fresh_until_ms,
            stale_until_ms: meta.stale_until_ms,
            load_micros: meta.load_micros,
            weight: u32::try_from(weight).unwrap_or(u32::MAX),
            tags,
            token,
            state: AtomicU64::new(0),
            value,
        })
    }
}

impl<V: ?Sized> LocalEntry<V> {
    /// The entry's lifetimes.
    #[inline]
    pub(crate) fn meta(&self) -> EntryMeta {
        EntryMeta {
            fresh_until_ms: self.fresh_until_ms,
            stale_until_ms: self.stale_until_ms,
            load_micros: self.load_micros,
        }
    }

    /// What the entry costs under `key` (of `key_len` bytes), in moka and in a front alike.
    pub(crate) fn charge(&self, key_len: usize) -> u32 {
        self.weight
            .saturating_add(u32::try_from(key_len).unwrap_or(u32::MAX))
            .saturating_add(ENTRY_OVERHEAD)
    }

    #[inline]
    pub(crate) fn admitted(&self) -> u64 {
        self.state.load(Ordering::Acquire) & !RETIRED
    }

    /// The ticket of a read that found this entry: its admission clock, which is no later
    /// than the read (an invalidation after it has a newer tombstone).
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket::at(self.admitted())
    }

    /// Records that the entry was admitted (or found valid) at `clock`. The clock only moves
    /// forward, and a retired entry keeps its clock: the retired bit outweighs every clock.
    pub(crate) fn set_admitted(&self, clock: u64) {
        self.state.fetch_max(clock & !RETIRED, Ordering::AcqRel);
    }

    pub(crate) fn is_retired(&self) -> bool {
        self.state.load(Ordering::Acquire) & RETIRED != 0
    }

    pub(crate) fn retire(&self) {
        self.state.fetch_or(RETIRED, Ordering::AcqRel);
    }
}
