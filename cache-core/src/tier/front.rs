//! A small per-thread front for the local tier: hot keys are answered without touching moka.
//!
//! A moka hit is correct but not free: it hashes the key, records the read in a buffer shared
//! by every thread, stamps the entry's access time and bumps its reference count — shared
//! cache-line writes that two threads hitting the same key fight over. The front remembers,
//! per thread, the entries a thread keeps hitting, in a direct-mapped table of
//! [`SLOTS`] slots, and answers those hits with plain reads.
//!
//! Staying correct is the local tier's job, not the front's guesswork:
//! - every entry moka removes or replaces (invalidation, a newer write, expiry, eviction) is
//!   marked retired by moka's eviction listener before the removing call returns, and a
//!   retired entry is never served from a front;
//! - tag invalidations and clears, which moka applies lazily, bump the tier's epoch; a slot
//!   remembers the epoch read *before* its entry was looked up, so an entry found before an
//!   invalidation can never be served after it;
//! - freshness is still checked by the caller on every hit.
//!
//! One hit in [`TOUCH_EVERY`] is also passed on to moka, so its eviction policy still sees
//! which keys are hot. A slot is filled on the second lookup of a key, so keys seen once do
//! not churn it, and only entries up to [`MAX_ENTRY_BYTES`] are kept (a slot holds its
//! entry alive until the slot is reused or the thread ends).

use std::cell::RefCell;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::local::LocalEntry;

/// Slots per thread (a power of two): about 14 KiB per thread that uses a cache.
const SLOTS: usize = 256;
/// Every this many front hits of a slot, the hit is also recorded in moka.
pub(crate) const TOUCH_EVERY: u32 = 64;
/// Entries with a larger envelope are not kept in a front.
const MAX_ENTRY_BYTES: u32 = 64 * 1024;

/// What one local tier shares with every thread's front.
#[derive(Debug)]
pub(crate) struct FrontShared {
    /// Tells local tiers apart in a thread's table.
    id: u64,
    /// Bumped after every lazy bulk invalidation (tags, clear).
    epoch: AtomicU64,
}

impl FrontShared {
    pub(crate) fn new() -> FrontShared {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        FrontShared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            epoch: AtomicU64::new(0),
        }
    }

    /// The current epoch; read before looking an entry up, stored with it.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Invalidates every slot of this tier in every thread; call after the bulk invalidation
    /// has been applied to moka.
    pub(crate) fn bump_epoch(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }
}

#[derive(Default)]
struct Slot {
    tier: u64,
    hash: u64,
    key: Box<str>,
    entry: Option<Arc<LocalEntry>>,
    epoch: u64,
    hits: u32,
    /// Hash of a key seen once at this slot and not admitted yet.
    candidate: u64,
}

thread_local! {
    static TABLE: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// The hash that picks a key's slot: fixed-seeded, since it never leaves this process.
pub(crate) fn hash(key: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one(key)
}

/// What a front lookup found.
pub(crate) enum Lookup<R> {
    /// A live entry; `touch` says this hit should also be recorded in moka.
    Hit { result: R, touch: bool },
    /// Nothing usable; the closure was not called.
    Miss,
}

/// Calls `f` with this thread's live entry for `key` in tier `shared`, if it has one.
pub(crate) fn lookup<R>(
    shared: &FrontShared,
    key: &str,
    hash: u64,
    f: impl FnOnce(&Arc<LocalEntry>) -> R,
) -> Lookup<R> {
    TABLE
        .try_with(|table| {
            // A clone or a key part that reads a cache from inside a lookup finds the table
            // borrowed; it simply goes to moka.
            let Ok(mut table) = table.try_borrow_mut() else {
                return Lookup::Miss;
            };
            let Some(slot) = table.get_mut(index(hash)) else {
                return Lookup::Miss;
            };
            let live = slot.tier == shared.id
                && slot.hash == hash
                && *slot.key == *key
                && slot.epoch == shared.epoch()
                && slot.entry.as_ref().is_some_and(|e| !e.is_retired());
            if !live {
                return Lookup::Miss;
            }
            let Some(entry) = slot.entry.as_ref() else {
                return Lookup::Miss;
            };
            slot.hits = slot.hits.wrapping_add(1);
            let touch = slot.hits % TOUCH_EVERY == 0;
            Lookup::Hit {
                result: f(entry),
                touch,
            }
        })
        .unwrap_or(Lookup::Miss)
}

/// Offers `entry`, looked up in moka at `epoch`, to this thread's front. It is kept when the
/// same key was offered to its slot before (a second lookup) and it is small enough.
pub(crate) fn offer(
    shared: &FrontShared,
    key: &str,
    hash: u64,
    epoch: u64,
    entry: &Arc<LocalEntry>,
) {
    if entry.encoded_len > MAX_ENTRY_BYTES || entry.is_retired() {
        return;
    }
    let _ = TABLE.try_with(|table| {
        let Ok(mut table) = table.try_borrow_mut() else {
            return;
        };
        if table.is_empty() {
            table.resize_with(SLOTS, Slot::default);
        }
        let Some(slot) = table.get_mut(index(hash)) else {
            return;
        };
        // The candidate mark ignores the tier: two tiers sharing a key text just admit it
        // one lookup early.
        if slot.candidate != hash {
            slot.candidate = hash;
            return;
        }
        if slot.tier != shared.id || slot.hash != hash || *slot.key != *key {
            slot.key = key.into();
        }
        slot.tier = shared.id;
        slot.hash = hash;
        slot.entry = Some(Arc::clone(entry));
        slot.epoch = epoch;
        slot.hits = 0;
    });
}

fn index(hash: u64) -> usize {
    // The high bits: the low ones also pick moka's shard and bucket.
    (hash >> 56) as usize & (SLOTS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::EntryMeta;

    fn entry(len: usize) -> Arc<LocalEntry> {
        let meta = EntryMeta {
            fresh_until_ms: u64::MAX,
            stale_until_ms: u64::MAX,
            load_micros: 0,
        };
        Arc::new(LocalEntry::new(Arc::new(7_u32), meta, len, None, None))
    }

    fn read(shared: &FrontShared, key: &str) -> Option<u32> {
        match lookup(shared, key, hash(key), |e| {
            *e.value.downcast_ref::<u32>().unwrap()
        }) {
            Lookup::Hit { result, .. } => Some(result),
            Lookup::Miss => None,
        }
    }

    #[test]
    fn admits_on_the_second_offer_and_forgets_retired_entries() {
        let shared = FrontShared::new();
        let e = entry(10);
        let offer_now = |e: &Arc<LocalEntry>| offer(&shared, "k", hash("k"), shared.epoch(), e);
        offer_now(&e);
        assert_eq!(read(&shared, "k"), None, "one offer is not enough");
        offer_now(&e);
        assert_eq!(read(&shared, "k"), Some(7));
        assert_eq!(read(&shared, "other"), None);
        e.retire();
        assert_eq!(read(&shared, "k"), None, "a retired entry is never served");
    }

    #[test]
    fn an_epoch_bump_invalidates_every_slot_of_the_tier_only() {
        let (a, b) = (FrontShared::new(), FrontShared::new());
        let (ea, eb) = (entry(10), entry(10));
        for _ in 0..2 {
            offer(&a, "x", hash("x"), a.epoch(), &ea);
            offer(&b, "y", hash("y"), b.epoch(), &eb);
        }
        let epoch_before_lookup = a.epoch();
        a.bump_epoch();
        assert_eq!(read(&a, "x"), None);
        assert_eq!(read(&b, "y"), Some(7));
        // An entry looked up before the bump and offered after it is stale on arrival.
        offer(&a, "x", hash("x"), epoch_before_lookup, &ea);
        assert_eq!(read(&a, "x"), None);
    }

    #[test]
    fn large_entries_are_not_kept() {
        let shared = FrontShared::new();
        let big = entry(MAX_ENTRY_BYTES as usize + 1);
        for _ in 0..3 {
            offer(&shared, "big", hash("big"), shared.epoch(), &big);
        }
        assert_eq!(read(&shared, "big"), None);
    }

    #[test]
    fn every_touch_every_th_hit_is_passed_on() {
        let shared = FrontShared::new();
        let e = entry(10);
        for _ in 0..2 {
            offer(&shared, "t", hash("t"), shared.epoch(), &e);
        }
        let touches = (0..TOUCH_EVERY * 3)
            .filter(|_| {
                matches!(
                    lookup(&shared, "t", hash("t"), |_| ()),
                    Lookup::Hit { touch: true, .. }
                )
            })
            .count();
        assert_eq!(touches, 3);
    }
}
