//! Local fencing: a value read or loaded before an invalidation is never stored after it.
//!
//! Every read or load takes a [`Ticket`] (the fence clock's value) before it starts. Every
//! invalidation of a key, a tag or everything ticks the clock and records the new value as that
//! key's (tag's, everything's) tombstone — under the same lock that stores into the local tier.
//! A store presents its ticket: if a tombstone newer than the ticket covers the key, the value
//! may predate the invalidation and is dropped. Because the check and the insert happen under
//! the lock the invalidation holds while it records and removes, no interleaving lets a stale
//! value in after an invalidation has returned.
//!
//! Tombstones are kept per key in 64 shards, at most [`MAX_PER_SHARD`] each; a full shard
//! forgets its tombstones and raises its floor instead, so a store whose ticket is below the
//! floor is dropped (conservative: a lost store, never a stale one). A key invalidation removes
//! the local entry synchronously; a tag invalidation or clear reaches moka lazily, so a hit on
//! an entry admitted before the newest one re-checks it here once ([`Fences::entry_valid`]);
//! every other hit costs two atomic loads.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};

use crate::tier::Ticket;
use crate::tier::entry::LocalEntry;

/// Tombstones a shard keeps before it forgets them all and raises its floor.
const MAX_PER_SHARD: usize = 1024;
/// Tag tombstones kept before they are forgotten the same way.
const MAX_TAGS: usize = 4096;
const SHARDS: usize = 64;

#[derive(Default)]
struct Shard {
    keys: HashMap<Box<str>, u64>,
    /// Stores with a ticket below this are dropped (tombstones were forgotten).
    floor: u64,
}

#[derive(Default)]
struct TagStones {
    tags: HashMap<Box<str>, u64>,
    floor: u64,
    /// The newest tag invalidation of any tag: what a value with unknown tags is checked against.
    any: u64,
}

/// What an invalidation covers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    Key(&'a str),
    Tag(&'a str),
    All,
}

/// The per-cache fence clock and tombstones.
pub(crate) struct Fences {
    clock: AtomicU64,
    shards: Box<[Mutex<Shard>]>,
    tags: Mutex<TagStones>,
    /// The newest clear.
    cleared: AtomicU64,
    /// The newest tag invalidation or clear: a local entry admitted before it is checked
    /// against the tombstones on its next hit (see [`entry_valid`](Fences::entry_valid)).
    bulk: AtomicU64,
    hasher: foldhash::fast::FixedState,
}

impl Default for Fences {
    fn default() -> Self {
        Fences {
            clock: AtomicU64::new(0),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            tags: Mutex::default(),
            cleared: AtomicU64::new(0),
            bulk: AtomicU64::new(0),
            hasher: foldhash::fast::FixedState::with_seed(0xfe4ce),
        }
    }
}

impl std::fmt::Debug for Fences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fences")
            .field("clock", &self.clock.load(Ordering::Relaxed))
            .finish()
    }
}

impl Fences {
    /// Taken before a read or load starts.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket::at(self.clock.load(Ordering::Acquire))
    }

    /// Whether nothing at all was invalidated since `ticket` (no lock; the fast path of
    /// [`still_valid`](Fences::still_valid)).
    pub(crate) fn quiet_since(&self, ticket: Ticket) -> bool {
        self.clock.load(Ordering::Acquire) == ticket.clock()
    }

    /// Runs `store` unless an invalidation covering `key` (with `tags`; `None` = unknown, so
    /// any tag invalidation covers it) happened after `ticket`. Returns whether it ran.
    pub(crate) fn admit(
        &self,
        key: &str,
        tags: Option<&[Arc<str>]>,
        ticket: Ticket,
        store: impl FnOnce(),
    ) -> bool {
        let shard = self.shard(key).lock();
        if !self.valid_locked(&shard, key, tags, ticket) {
            return false;
        }
        store();
        true
    }

    /// Whether a value read with `ticket` may still be served (no covering invalidation since).
    pub(crate) fn still_valid(&self, key: &str, tags: Option<&[Arc<str>]>, ticket: Ticket) -> bool {
        self.quiet_since(ticket) || self.valid_locked(&self.shard(key).lock(), key, tags, ticket)
    }

    fn valid_locked(
        &self,
        shard: &Shard,
        key: &str,
        tags: Option<&[Arc<str>]>,
        ticket: Ticket,
    ) -> bool {
        let t = ticket.clock();
        if t < shard.floor || self.cleared.load(Ordering::Acquire) > t {
            return false;
        }
        if shard.keys.get(key).is_some_and(|&stone| stone > t) {
            return false;
        }
        let stones = self.tags.lock();
        match tags {
            None => stones.any <= t,
            Some(_) if stones.floor > t => false,
            Some(tags) => tags
                .iter()
                .all(|tag| stones.tags.get(&**tag).is_none_or(|&stone| stone <= t)),
        }
    }

    /// Records an invalidation of `scope` and runs `remove` (which drops the matching local
    /// values) under the locks every store takes, so no store slips in between.
    pub(crate) fn invalidate(&self, scope: Scope<'_>, remove: impl FnOnce()) {
        match scope {
            Scope::Key(key) => {
                let mut shard = self.shard(key).lock();
                let stone = self.tick();
                if shard.keys.len() >= MAX_PER_SHARD && !shard.keys.contains_key(key) {
                    shard.keys.clear();
                    shard.floor = stone;
                }
                shard.keys.insert(key.into(), stone);
                remove();
            }
            Scope::Tag(tag) => {
                let _all = self.lock_all();
                // Ticked under the tag lock, so `entry_valid` never reads a clock value whose
                // bulk tombstone is not recorded yet.
                let mut stones = self.tags.lock();
                let stone = self.tick();
                if stones.tags.len() >= MAX_TAGS && !stones.tags.contains_key(tag) {
                    stones.tags.clear();
                    stones.floor = stone;
                }
                stones.tags.insert(tag.into(), stone);
                stones.any = stone;
                self.bulk.store(stone, Ordering::Release);
                drop(stones);
                remove();
            }
            Scope::All => {
                let _all = self.lock_all();
                let _stones = self.tags.lock();
                let stone = self.tick();
                self.cleared.store(stone, Ordering::Release);
                self.bulk.store(stone, Ordering::Release);
                remove();
            }
        }
    }

    /// The clock now: what a local entry admitted now records (see [`entry_valid`]).
    ///
    /// [`entry_valid`]: Fences::entry_valid
    pub(crate) fn now(&self) -> u64 {
        self.clock.load(Ordering::Acquire)
    }

    /// Whether a local entry may be served. Tag invalidations and clears reach moka lazily
    /// (`invalidate_entries_if` hides entries only while its predicate is registered, and moka
    /// retires the predicate once its scan has passed the entries it knows of, which may miss
    /// one whose insertion it has not processed yet), so correctness does not rest on them: an
    /// entry admitted before the newest bulk invalidation is checked against the tombstones
    /// once, under the tag lock, and then remembers the clock it was found valid at. The hit
    /// path pays two atomic loads.
    #[inline]
    pub(crate) fn entry_valid(&self, entry: &LocalEntry) -> bool {
        // Inlined into every hit; the re-check after a bulk invalidation is out of line.
        entry.admitted() >= self.bulk.load(Ordering::Acquire) || self.entry_still_valid(entry)
    }

    /// [`entry_valid`](Fences::entry_valid) for an entry admitted before the newest bulk
    /// invalidation.
    #[cold]
    fn entry_still_valid(&self, entry: &LocalEntry) -> bool {
        let admitted = entry.admitted();
        let stones = self.tags.lock();
        let valid = self.cleared.load(Ordering::Acquire) <= admitted
            && match entry.tags.as_deref() {
                None => stones.any <= admitted,
                Some(_) if stones.floor > admitted => false,
                Some(tags) => tags.iter().all(|tag| {
                    stones
                        .tags
                        .get(&**tag)
                        .is_none_or(|&stone| stone <= admitted)
                }),
            };
        if valid {
            // Every bulk tombstone up to this clock value is recorded (they tick under this
            // lock), and none covers the entry.
            entry.set_admitted(self.now());
        }
        valid
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::AcqRel) + 1
    }

    fn shard(&self, key: &str) -> &Mutex<Shard> {
        let index = self.hasher.hash_one(key) as usize % SHARDS;
        &self.shards[index]
    }

    /// Every shard, always locked in index order (no lock-order cycles).
    fn lock_all(&self) -> Vec<MutexGuard<'_, Shard>> {
        self.shards.iter().map(|s| s.lock()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<Arc<str>> {
        list.iter().map(|t| Arc::from(*t)).collect()
    }

    #[test]
    fn a_ticket_older_than_the_key_tombstone_is_refused() {
        let fences = Fences::default();
        let before = fences.ticket();
        fences.invalidate(Scope::Key("k"), || {});
        let after = fences.ticket();
        assert!(!fences.admit("k", Some(&[]), before, || {}));
        assert!(fences.admit("other", Some(&[]), before, || {}));
        assert!(fences.admit("k", Some(&[]), after, || {}));
        assert!(!fences.still_valid("k", Some(&[]), before));
        assert!(fences.still_valid("k", Some(&[]), after));
    }

    #[test]
    fn tags_cover_tagged_and_unknown_values_clears_cover_everything() {
        let fences = Fences::default();
        let before = fences.ticket();
        fences.invalidate(Scope::Tag("t"), || {});
        assert!(!fences.admit("a", Some(&tags(&["t"])), before, || {}));
        assert!(fences.admit("a", Some(&tags(&["u"])), before, || {}));
        assert!(!fences.admit("a", None, before, || {}), "unknown tags");
        let middle = fences.ticket();
        fences.invalidate(Scope::All, || {});
        assert!(!fences.admit("b", Some(&[]), middle, || {}));
        assert!(fences.admit("b", None, fences.ticket(), || {}));
    }

    #[test]
    fn local_entries_admitted_before_a_bulk_invalidation_are_checked_once() {
        use crate::codec::EntryMeta;
        let fences = Fences::default();
        let meta = EntryMeta {
            fresh_until_ms: u64::MAX,
            stale_until_ms: u64::MAX,
            load_micros: 0,
        };
        let entry = |list: Option<&[&str]>| {
            let tags = list.map(|l| Arc::new(tags(l).into_boxed_slice()));
            let entry = LocalEntry::shared(1_u8, meta, 1, tags, None);
            entry.set_admitted(fences.now());
            entry
        };
        let (in_t, in_u, unknown) = (entry(Some(&["t"])), entry(Some(&["u"])), entry(None));
        assert!(fences.entry_valid(&in_t), "no bulk invalidation yet");
        fences.invalidate(Scope::Tag("t"), || {});
        assert!(!fences.entry_valid(&in_t), "its tag was invalidated");
        assert!(
            !fences.entry_valid(&unknown),
            "unknown tags: any tag covers it"
        );
        assert!(fences.entry_valid(&in_u));
        assert!(in_u.admitted() >= fences.now(), "found valid: re-stamped");
        let after = entry(Some(&["t"]));
        assert!(
            fences.entry_valid(&after),
            "admitted after the invalidation"
        );
        fences.invalidate(Scope::All, || {});
        assert!(!fences.entry_valid(&in_u) && !fences.entry_valid(&after));
    }

    #[test]
    fn a_full_shard_forgets_but_stays_conservative() {
        let fences = Fences::default();
        let before = fences.ticket();
        for i in 0..(MAX_PER_SHARD * SHARDS * 2) {
            fences.invalidate(Scope::Key(&format!("k{i}")), || {});
        }
        let refused = (0..1000)
            .filter(|i| !fences.admit(&format!("fresh{i}"), Some(&[]), before, || {}))
            .count();
        assert_eq!(
            refused, 1000,
            "every old ticket is refused after forgetting"
        );
        assert!(fences.admit("fresh", Some(&[]), fences.ticket(), || {}));
    }
}
