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
//! not churn it.
//!
//! # Memory
//!
//! A slot holds its entry alive until the slot is reused or the thread ends, so an entry moka
//! has dropped can outlive it in fronts. Fronts therefore obey the tier's byte budget:
//! entries are charged what moka charges them ([`LocalEntry::charge`]), only an entry of at
//! most `min(`[`MAX_ENTRY_BYTES`]`, max_bytes / `[`SLOTS`]`)` is kept, and every front of a
//! tier, in all threads together, holds at most `max_bytes / `[`FRONT_SHARE`] (the charge is
//! taken when a slot is filled and given back when it is emptied, reused or its thread ends).
//! Worst case, when every entry the fronts hold has already left moka: the tier's values
//! occupy `max_bytes * 9 / 8`, whatever the number of threads; one thread holds at most
//! `max_bytes / 8` of them, and never more than `SLOTS * MAX_ENTRY_BYTES` (16 MiB). Each thread that uses a cache also has its table (about 18 KiB
//! plus the keys). Entries still in moka, the usual case, cost nothing more. A thread that
//! stops using a tier keeps its slots, and their charge, until it reuses them or ends: the
//! share can then run out, which admits fewer entries, never more memory.
//!
//! Taking and giving back the charge is an atomic add on the tier when a slot is filled,
//! which happens on a moka hit, never on a front hit.

use std::cell::RefCell;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::local::LocalEntry;

/// Slots per thread (a power of two): about 18 KiB per thread that uses a cache.
const SLOTS: usize = 256;
/// Every this many front hits of a slot, the hit is also recorded in moka.
pub(crate) const TOUCH_EVERY: u32 = 64;
/// Entries charged more are never kept in a front, whatever the budget.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;
/// All fronts of a tier together hold at most its budget divided by this.
const FRONT_SHARE: u64 = 8;

/// What one local tier shares with every thread's front.
#[derive(Debug)]
pub(crate) struct FrontShared {
    /// Tells local tiers apart in a thread's table.
    id: u64,
    /// Bumped after every lazy bulk invalidation (tags, clear).
    epoch: AtomicU64,
    /// Largest charge of an entry kept in a front.
    entry_cap: u64,
    /// Largest total charge of the entries all fronts of this tier hold.
    total_cap: u64,
    /// The total charge they hold now.
    held: AtomicU64,
}

impl FrontShared {
    /// What fronts of a tier with a budget of `max_bytes` share.
    pub(crate) fn new(max_bytes: u64) -> FrontShared {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        FrontShared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            epoch: AtomicU64::new(0),
            entry_cap: MAX_ENTRY_BYTES.min(max_bytes / SLOTS as u64),
            total_cap: max_bytes / FRONT_SHARE,
            held: AtomicU64::new(0),
        }
    }

    /// Takes `charge` from the fronts' share of the budget, if it has that much left.
    fn reserve(&self, charge: u32) -> bool {
        self.held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                held.checked_add(u64::from(charge))
                    .filter(|&total| total <= self.total_cap)
            })
            .is_ok()
    }

    fn release(&self, charge: u32) {
        self.held.fetch_sub(u64::from(charge), Ordering::Relaxed);
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
    /// What `entry` is charged against its tier's front share.
    charge: u32,
    /// Hash of a key seen once at this slot and not admitted yet.
    candidate: u64,
    /// The tier `entry` is charged to (kept apart from `tier`, which a hit compares).
    owner: Option<Arc<FrontShared>>,
}

impl Slot {
    /// Drops the entry and gives its charge back.
    fn empty(&mut self) {
        self.entry = None;
        if let Some(owner) = self.owner.take() {
            owner.release(std::mem::take(&mut self.charge));
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.empty();
    }
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
/// same key was offered to its slot before (a second lookup), it is small enough and the
/// tier's fronts have room for it.
pub(crate) fn offer(
    shared: &Arc<FrontShared>,
    key: &str,
    hash: u64,
    epoch: u64,
    entry: &Arc<LocalEntry>,
) {
    let charge = entry.charge(key.len());
    if u64::from(charge) > shared.entry_cap || entry.is_retired() {
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
        // What the slot held goes first: it may be what leaves room for the newcomer.
        slot.empty();
        if !shared.reserve(charge) {
            return;
        }
        slot.owner = Some(Arc::clone(shared));
        slot.charge = charge;
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

    /// A budget whose front caps are [`MAX_ENTRY_BYTES`] per entry and 128 MiB in all.
    const LARGE: u64 = 1 << 30;

    /// An entry charged `weight` plus a one-byte key plus the fixed overhead.
    fn entry(weight: usize) -> Arc<LocalEntry> {
        let meta = EntryMeta {
            fresh_until_ms: u64::MAX,
            stale_until_ms: u64::MAX,
            load_micros: 0,
        };
        Arc::new(LocalEntry::new(Arc::new(7_u32), meta, weight, None, None))
    }

    fn tier(max_bytes: u64) -> Arc<FrontShared> {
        Arc::new(FrontShared::new(max_bytes))
    }

    fn read(shared: &FrontShared, key: &str) -> Option<u32> {
        match lookup(shared, key, hash(key), |e| {
            *e.value.downcast_ref::<u32>().unwrap()
        }) {
            Lookup::Hit { result, .. } => Some(result),
            Lookup::Miss => None,
        }
    }

    /// Offers `e` under `key` twice, which admits it if it may be admitted.
    fn admit(shared: &Arc<FrontShared>, key: &str, e: &Arc<LocalEntry>) {
        for _ in 0..2 {
            offer(shared, key, hash(key), shared.epoch(), e);
        }
    }

    /// Distinct one-byte keys that fall in distinct slots.
    fn keys_in_distinct_slots(n: usize) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        (0..=255_u8)
            .map(|b| char::from(b).to_string())
            .filter(|k| k.len() == 1 && seen.insert(index(hash(k))))
            .take(n)
            .collect()
    }

    #[test]
    fn admits_on_the_second_offer_and_forgets_retired_entries() {
        let shared = tier(LARGE);
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
        let (a, b) = (tier(LARGE), tier(LARGE));
        let (ea, eb) = (entry(10), entry(10));
        admit(&a, "x", &ea);
        admit(&b, "y", &eb);
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
        let shared = tier(LARGE);
        let big = entry(MAX_ENTRY_BYTES as usize + 1);
        admit(&shared, "big", &big);
        assert_eq!(read(&shared, "big"), None);
    }

    #[test]
    fn entries_large_for_the_budget_are_not_kept() {
        // 1 MiB budget: at most 4 KiB an entry, 128 KiB in all.
        let shared = tier(1 << 20);
        let fits = entry(4096 - 1 - 96);
        let too_big = entry(4096 - 96);
        admit(&shared, "a", &fits);
        admit(&shared, "b", &too_big);
        assert_eq!((read(&shared, "a"), read(&shared, "b")), (Some(7), None));
        assert_eq!(shared.held.load(Ordering::Relaxed), 4096);
    }

    #[test]
    fn all_fronts_together_hold_at_most_their_share() {
        // 256 KiB budget: at most 1 KiB an entry, 32 KiB in all, so 32 entries of 1 KiB.
        let shared = tier(256 << 10);
        let e = entry(1024 - 1 - 96);
        let keys = keys_in_distinct_slots(48);
        let (here, there) = keys.split_at(24);
        for key in here {
            admit(&shared, key, &e);
        }
        // Joined, not scoped: a join waits for the thread's locals to be dropped.
        let (there, their_tier, their_entry) =
            (there.to_vec(), Arc::clone(&shared), Arc::clone(&e));
        std::thread::spawn(move || {
            for key in &there {
                admit(&their_tier, key, &their_entry);
            }
            let admitted = there
                .iter()
                .filter(|k| read(&their_tier, k).is_some())
                .count();
            assert_eq!(admitted, 8, "the share is used up after 32 entries");
            assert_eq!(their_tier.held.load(Ordering::Relaxed), 32 << 10);
        })
        .join()
        .unwrap();
        assert_eq!(
            shared.held.load(Ordering::Relaxed),
            24 << 10,
            "an ended thread gives its charge back"
        );
        // Reusing a slot for another tier gives the first tier's charge back too.
        let other = tier(LARGE);
        admit(&other, &here[0], &e);
        assert_eq!(shared.held.load(Ordering::Relaxed), 23 << 10);
    }

    #[test]
    fn every_touch_every_th_hit_is_passed_on() {
        let shared = tier(LARGE);
        let e = entry(10);
        admit(&shared, "t", &e);
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
