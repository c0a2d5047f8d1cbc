//! One thread's front table: sets of [`WAYS`] slots, found by the key's hash, that grow from
//! [`MIN_SLOTS`] to at most [`MAX_SLOTS`] while the thread keeps finding in moka what the table
//! could not hold.
//!
//! Growth is driven by offers, which are front misses that moka answered (the key was read
//! before, by some thread): a table too small for the hot set misses either because the key
//! was pushed out or because its set saw too many other keys to remember it as a candidate.
//! Keys read once never reach it, since moka misses them.
//!
//! Sets instead of single slots: with one slot per hash, two hot keys that share a slot push
//! each other out forever (a third of a 100-key hot set did, in 256 slots). A 16-bit tag of
//! each slot's hash lives in its own array, a set's eight in 16 bytes (a 16,384-slot table's
//! tags take 32 KiB and stay in the CPU's nearest caches), so a probe reads the one slot it
//! finds and rarely any other.

use std::sync::Arc;

use super::{FrontShared, LocalEntry};

/// Slots per set.
pub(super) const WAYS: usize = 8;
/// Slots of a new table (a power of two).
pub(super) const MIN_SLOTS: usize = 256;
/// Slots a table may grow to (a power of two): 1.2 MiB per thread plus the keys.
pub(super) const MAX_SLOTS: usize = 16_384;
/// A table grows when, over a window of this many probes per slot, more than one probe in
/// [`GROW_ONE_IN`] missed and was answered by moka.
const WINDOW_PER_SLOT: u64 = 4;
const GROW_ONE_IN: u64 = 32;

/// One cache line: what a hit reads besides its set's tags.
#[derive(Default)]
#[repr(align(64))]
pub(super) struct Slot {
    pub(super) key: Box<str>,
    /// The entry, its value inside it (one allocation: a hit follows one pointer to both).
    pub(super) entry: Option<Arc<LocalEntry>>,
    pub(super) epoch: u64,
    /// Front hits, halved whenever a newcomer asks the full set for room: an entry is pushed
    /// out only once it has gone unhit for that long.
    pub(super) hits: u32,
    /// What `entry` is charged against its tier's front share.
    charge: u32,
    /// The tier `entry` belongs and is charged to; `None` when the slot holds no entry.
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

    /// Whether its entry belongs to `tier` (which this slot keeps alive, so no other tier can
    /// have its address meanwhile).
    #[inline]
    fn belongs_to(&self, tier: &FrontShared) -> bool {
        self.owner.as_deref().is_some_and(|o| std::ptr::eq(o, tier))
    }

    /// Whether it holds an entry some front may still serve.
    fn is_live(&self) -> bool {
        match (&self.entry, &self.owner) {
            (Some(entry), Some(owner)) => !entry.is_retired() && owner.epoch() == self.epoch,
            _ => false,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.empty();
    }
}

/// One `u64` per slot of a set, in one cache line.
#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Line([u64; WAYS]);

/// One tag per slot of a set.
#[derive(Clone, Copy, Default)]
#[repr(align(16))]
struct Tags([u16; WAYS]);

/// The tag of a hash: bits the set index does not use.
#[inline]
fn tag(hash: u64) -> u16 {
    hash as u16
}

pub(super) struct Table {
    /// Per set, the tag of each slot's key hash (anything for an empty slot: its owner and key
    /// are checked too).
    tags: Vec<Tags>,
    slots: Vec<Slot>,
    /// Per set, the hashes of the last [`WAYS`] keys offered to it while it was full and not
    /// admitted yet, so keys seen once do not churn the set.
    candidates: Vec<Line>,
    /// `64 - log2(sets)`: the high bits of a hash pick its set (the low ones pick moka's).
    shift: u32,
    /// Probes, and offers (misses that moka answered), in the current growth window.
    probes: u64,
    offers: u64,
    /// Front hits of any slot, pacing the touches passed on to moka.
    touches: u32,
}

impl Table {
    /// An empty table; it allocates on its first offer. `const`, so the thread-local holding
    /// it needs no lazy initialisation on every access.
    pub(super) const fn new() -> Table {
        Table {
            tags: Vec::new(),
            slots: Vec::new(),
            candidates: Vec::new(),
            shift: 0,
            probes: 0,
            offers: 0,
            touches: 0,
        }
    }

    /// The live entry of `key` in tier `tier` (whose epoch is now `epoch`), counted as a hit,
    /// and whether this hit is one to pass on to moka.
    #[inline]
    pub(super) fn hit(
        &mut self,
        tier: &FrontShared,
        key: &str,
        hash: u64,
        epoch: u64,
    ) -> Option<(&Arc<LocalEntry>, bool)> {
        if self.slots.is_empty() {
            return None;
        }
        self.probes += 1;
        let way = self.find(tier, key, hash)?;
        let slot = &mut self.slots[way];
        let live = slot.epoch == epoch && slot.entry.as_ref().is_some_and(|e| !e.is_retired());
        if !live {
            return None;
        }
        slot.hits = slot.hits.saturating_add(1);
        // One hit in TOUCH_EVERY, whichever key: a sample of hits in proportion to each key's.
        self.touches = self.touches.wrapping_add(1);
        let touch = self.touches.is_multiple_of(super::TOUCH_EVERY);
        let slot = &self.slots[way];
        Some((slot.entry.as_ref()?, touch))
    }

    /// The slot holding `key` of tier `tier`, if any (live or not).
    #[inline]
    fn find(&self, tier: &FrontShared, key: &str, hash: u64) -> Option<usize> {
        let set = self.set(hash);
        let base = set * WAYS;
        // Every way compared at once, without a branch per way (the hit's way is random).
        let tag = tag(hash);
        let mut matches = self.tags[set]
            .0
            .iter()
            .enumerate()
            .fold(0_u32, |m, (way, &t)| m | (u32::from(t == tag) << way));
        while matches != 0 {
            let way = base + matches.trailing_zeros() as usize;
            let slot = &self.slots[way];
            if slot.belongs_to(tier) && *slot.key == *key {
                return Some(way);
            }
            matches &= matches - 1;
        }
        None
    }

    /// Keeps `entry` (charged `charge`, looked up at `epoch`) for `key` of tier `shared`: in
    /// the slot that already holds the key, else where its set has room (see [`Table::room`]).
    /// Nothing is kept when the tier's fronts have no room for the charge.
    pub(super) fn offer(
        &mut self,
        shared: &Arc<FrontShared>,
        key: &str,
        hash: u64,
        epoch: u64,
        entry: &Arc<LocalEntry>,
        charge: u32,
    ) {
        if self.slots.is_empty() {
            self.resize(MIN_SLOTS);
        }
        self.offers += 1;
        self.maybe_grow();
        let set = self.set(hash);
        let way = match self.find(shared, key, hash) {
            Some(way) => way,
            None => match self.room(set, hash) {
                Some(way) => way,
                None => return,
            },
        };
        let slot = &mut self.slots[way];
        // What the slot held goes first: it may be what leaves room for the newcomer.
        slot.empty();
        if !shared.reserve(charge) {
            return;
        }
        slot.owner = Some(Arc::clone(shared));
        slot.charge = charge;
        if *slot.key != *key {
            slot.key = key.into();
        }
        slot.entry = Some(Arc::clone(entry));
        slot.epoch = epoch;
        slot.hits = 0;
        self.tags[set].0[way % WAYS] = tag(hash);
    }

    /// The set of `hash`.
    #[inline]
    fn set(&self, hash: u64) -> usize {
        (hash >> self.shift) as usize
    }

    /// The slot of set `set` for a newcomer with `hash`: a dead one at once; else, on
    /// its second offer (the set remembers the last [`WAYS`] keys that found it full), one not
    /// hit since the last newcomer asked. Otherwise every slot's hits are halved and the
    /// newcomer waits: entries that keep being hit stay, where pushing the least hit out at
    /// once would let a set with one key too many miss on all of them in turn.
    fn room(&mut self, set: usize, hash: u64) -> Option<usize> {
        let base = set * WAYS;
        let slots = &mut self.slots[base..base + WAYS];
        if let Some(dead) = slots.iter().position(|s| !s.is_live()) {
            return Some(base + dead);
        }
        let candidates = &mut self.candidates[set].0;
        if !candidates.contains(&hash) {
            // The candidate mark ignores the tier: two tiers sharing a key text just admit it
            // one lookup early.
            candidates.rotate_right(1);
            candidates[0] = hash;
            return None;
        }
        if let Some(idle) = slots.iter().position(|s| s.hits == 0) {
            return Some(base + idle);
        }
        for slot in slots.iter_mut() {
            slot.hits /= 2;
        }
        None
    }

    /// Doubles the table at the end of a window in which moka answered too many of its misses.
    fn maybe_grow(&mut self) {
        let window = WINDOW_PER_SLOT * self.slots.len() as u64;
        if self.probes < window {
            return;
        }
        let grow = self.offers * GROW_ONE_IN > window && self.slots.len() < MAX_SLOTS;
        (self.probes, self.offers) = (0, 0);
        if grow {
            self.resize(self.slots.len() * 2);
        }
    }

    /// Rebuilds the table with `slots` slots, moving the live entries over (a set that
    /// overflows drops the rest, giving their charge back).
    fn resize(&mut self, slots: usize) {
        let sets = slots / WAYS;
        self.tags = vec![Tags::default(); sets];
        let old_slots = std::mem::replace(&mut self.slots, Vec::with_capacity(slots));
        self.slots.resize_with(slots, Slot::default);
        self.candidates = vec![Line::default(); sets];
        self.shift = 64 - sets.trailing_zeros();
        for slot in old_slots {
            if !slot.is_live() {
                continue;
            }
            let hash = super::hash(&slot.key);
            let set = self.set(hash);
            let base = set * WAYS;
            if let Some(way) = (0..WAYS).find(|&w| self.slots[base + w].entry.is_none()) {
                self.tags[set].0[way] = tag(hash);
                self.slots[base + way] = slot;
            }
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }
}

/// The set of `hash` in a new table.
#[cfg(test)]
pub(super) fn initial_set(hash: u64) -> usize {
    (hash >> (64 - (MIN_SLOTS / WAYS).trailing_zeros())) as usize
}
