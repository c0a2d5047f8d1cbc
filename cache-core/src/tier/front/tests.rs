//! The front's admission, budget and invalidation rules (several threads where the budget
//! is shared).

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
    LocalEntry::shared(7_u32, meta, weight, None, None)
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
    let (there, their_tier, their_entry) = (there.to_vec(), Arc::clone(&shared), Arc::clone(&e));
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
