//! A small per-thread front for the local tier: hot keys are answered without touching moka.
//!
//! A moka hit is correct but not free: it hashes the key, records the read in a buffer shared
//! by every thread, stamps the entry's access time and bumps its reference count — shared
//! cache-line writes that two threads hitting the same key fight over, and several cache
//! misses per hit once the hot set outgrows the CPU caches. The front remembers, per thread,
//! the entries a thread keeps hitting, in a table of sets of eight slots (`table.rs`), and
//! answers those hits with plain reads. The table starts with 256 slots and doubles, up to
//! 16,384, while moka keeps answering more than one in 32 of its lookups (the hot set does
//! not fit).
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
//! which keys are hot. A key takes a free slot of its set at once; from a full set it takes
//! only an entry not hit lately, and only on its second lookup (the set remembers the last
//! eight keys that found it full), so keys seen once do not churn it.
//!
//! # Memory
//!
//! A slot holds its entry alive until the slot is reused or the thread ends, so an entry moka
//! has dropped can outlive it in fronts. Fronts therefore obey the tier's byte budget:
//! entries are charged what moka charges them ([`LocalEntry::charge`]), only an entry of at
//! most `min(`[`MAX_ENTRY_BYTES`]`, max_bytes / 256)` is kept, and every front of a
//! tier, in all threads together, holds at most `max_bytes / `[`FRONT_SHARE`] (the charge is
//! taken when a slot is filled and given back when it is emptied, reused or its thread ends).
//! Worst case, when every entry the fronts hold has already left moka: the tier's values
//! occupy `max_bytes * 9 / 8`, whatever the number of threads; one thread holds at most
//! `max_bytes / 8` of them. Entries still in moka, the usual case, cost nothing more.
//!
//! The tables themselves are not charged to any tier: each thread that uses a cache has one,
//! shared by all tiers, of 256 slots (74 bytes each with its tag and candidate mark: 19 KiB,
//! plus the keys it holds) that grows only while the thread's hits keep missing it for want
//! of room, to at most 16,384 slots (1.2 MiB plus the keys, one heap block each), and never
//! shrinks before the thread ends. A thread that stops using a tier keeps its slots, and their
//! charge, until it reuses them or ends: the share can then run out, which admits fewer
//! entries, never more memory.
//!
//! Taking and giving back the charge is an atomic add on the tier when a slot is filled,
//! which happens on a moka hit, never on a front hit.

use std::cell::RefCell;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::entry::LocalEntry;
use table::{MIN_SLOTS, Table};

/// Every this many front hits of a thread (whichever keys), the hit is also recorded in moka.
pub(crate) const TOUCH_EVERY: u32 = 64;
/// Entries charged more are never kept in a front, whatever the budget.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;
/// All fronts of a tier together hold at most its budget divided by this.
const FRONT_SHARE: u64 = 8;

/// What one local tier shares with every thread's front; its address tells tiers apart in a
/// thread's table.
#[derive(Debug)]
pub(crate) struct FrontShared {
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
        FrontShared {
            epoch: AtomicU64::new(0),
            entry_cap: MAX_ENTRY_BYTES.min(max_bytes / MIN_SLOTS as u64),
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

thread_local! {
    static TABLE: RefCell<Table> = const { RefCell::new(Table::new()) };
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
            let Some((entry, touch)) = table.hit(shared, key, hash, shared.epoch()) else {
                return Lookup::Miss;
            };
            Lookup::Hit {
                result: f(entry),
                touch,
            }
        })
        .unwrap_or(Lookup::Miss)
}

/// Offers `entry`, looked up in moka at `epoch`, to this thread's front. It is kept when its
/// set has room for it (see `table.rs`), it is small enough and the tier's fronts have room
/// for it.
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
        if let Ok(mut table) = table.try_borrow_mut() {
            table.offer(shared, key, hash, epoch, entry, charge);
        }
    });
}

mod table;

#[cfg(test)]
mod tests;
