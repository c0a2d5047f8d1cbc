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
use crate::options::Tags;

/// Fixed per-entry overhead added to the weight (map slot, Arcs, metadata).
const ENTRY_OVERHEAD: u32 = 96;

/// The bit of [`LocalEntry::state`] set once moka has removed or replaced the entry.
const RETIRED: u64 = 1 << 63;
/// The bit of [`LocalEntry::state`] that says the entry has a token: set when it is made,
/// never changed (a flag here rather than an `Option`, which would take another word).
const HAS_TOKEN: u64 = 1 << 62;
/// The bits of [`LocalEntry::state`] that hold the admission clock.
const CLOCK: u64 = !(RETIRED | HAS_TOKEN);

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
    pub(crate) tags: Option<Tags>,
    /// The remote write this value came from (or went to), when known ([`HAS_TOKEN`]): a
    /// refresh of this entry writes to the remote tier only while that write is still in place.
    token: Token,
    /// The fence clock when this entry was admitted (or last found valid), which the engine
    /// re-checks after a tag invalidation or clear (see `Fences::entry_valid`); the
    /// [`RETIRED`] bit, which per-thread fronts check; the [`HAS_TOKEN`] bit. One word.
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
        tags: Option<Tags>,
        token: Option<Token>,
    ) -> Arc<LocalEntry> {
        let has_token = if token.is_some() { HAS_TOKEN } else { 0 };
        Arc::new(LocalEntry {
            fresh_until_ms: meta.fresh_until_ms,
            stale_until_ms: meta.stale_until_ms,
            load_micros: meta.load_micros,
            weight: u32::try_from(weight).unwrap_or(u32::MAX),
            tags,
            token: token.unwrap_or(Token::new(0, 0)),
            state: AtomicU64::new(has_token),
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

    /// The remote write this value came from (or went to), when known.
    pub(crate) fn token(&self) -> Option<Token> {
        let has_token = self.state.load(Ordering::Relaxed) & HAS_TOKEN != 0;
        has_token.then_some(self.token)
    }

    /// What the entry costs under `key` (of `key_len` bytes), in moka and in a front alike.
    pub(crate) fn charge(&self, key_len: usize) -> u32 {
        self.weight
            .saturating_add(u32::try_from(key_len).unwrap_or(u32::MAX))
            .saturating_add(ENTRY_OVERHEAD)
    }

    #[inline]
    pub(crate) fn admitted(&self) -> u64 {
        self.state.load(Ordering::Acquire) & CLOCK
    }

    /// The ticket of a read that found this entry: its admission clock, which is no later
    /// than the read (an invalidation after it has a newer tombstone).
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket::at(self.admitted())
    }

    /// Records that the entry was admitted (or found valid) at `clock`; the clock only moves
    /// forward, and the flags stay as they are.
    pub(crate) fn set_admitted(&self, clock: u64) {
        let clock = clock & CLOCK;
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                (clock > state & CLOCK).then_some((state & !CLOCK) | clock)
            });
    }

    pub(crate) fn is_retired(&self) -> bool {
        self.state.load(Ordering::Acquire) & RETIRED != 0
    }

    pub(crate) fn retire(&self) {
        self.state.fetch_or(RETIRED, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> EntryMeta {
        EntryMeta {
            fresh_until_ms: 1,
            stale_until_ms: 2,
            load_micros: 3,
        }
    }

    #[test]
    fn the_bookkeeping_of_an_entry_takes_seven_words() {
        // With a two-`String` value the whole `Arc` allocation is 120 bytes: one 128-byte
        // malloc chunk. A field more and it is 144.
        assert_eq!(std::mem::size_of::<LocalEntry<()>>(), 56);
    }

    #[test]
    fn the_clock_the_retired_bit_and_the_token_keep_apart() {
        let token = Token::new(7, 9);
        let entry = LocalEntry::shared(5_u8, meta(), 10, None, Some(token));
        entry.set_admitted(4);
        entry.set_admitted(3);
        assert_eq!(entry.admitted(), 4, "the clock only moves forward");
        assert!(!entry.is_retired());
        entry.retire();
        entry.set_admitted(6);
        assert!(entry.is_retired());
        assert_eq!(entry.admitted(), 6);
        assert_eq!(entry.token(), Some(token));
        assert_eq!(entry.meta(), meta());
        assert_eq!(entry.value.downcast_ref::<u8>(), Some(&5));

        let untokened = LocalEntry::shared(5_u8, meta(), 10, None, None);
        untokened.retire();
        assert_eq!((untokened.token(), untokened.admitted()), (None, 0));
    }
}
