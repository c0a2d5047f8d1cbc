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

/// Distinct one-byte keys, at most half a set's worth in any set (so none pushes another out).
fn keys_that_fit(n: usize) -> Vec<String> {
    let mut per_set = std::collections::HashMap::new();
    (0..=255_u8)
        .map(|b| char::from(b).to_string())
        .filter(|k| {
            let count = per_set.entry(table::initial_set(hash(k))).or_insert(0);
            *count += 1;
            k.len() == 1 && *count <= table::WAYS / 2
        })
        .take(n)
        .collect()
}

/// `n` keys other than `key` that fall in its set.
fn keys_in_the_set_of(key: &str, n: usize) -> Vec<String> {
    let set = table::initial_set(hash(key));
    (0..)
        .map(|i| format!("s{i}"))
        .filter(|k| table::initial_set(hash(k)) == set)
        .take(n)
        .collect()
}

/// How many slots this thread's table has.
fn table_len() -> usize {
    TABLE.with(|t| t.borrow().len())
}

#[test]
fn a_full_set_admits_on_the_second_offer_and_forgets_retired_entries() {
    let shared = tier(LARGE);
    let e = entry(10);
    for key in keys_in_the_set_of("k", table::WAYS) {
        admit(&shared, &key, &e);
        // Hit, so not idle.
        assert_eq!(read(&shared, &key), Some(7));
    }
    let offer_now = |e: &Arc<LocalEntry>| offer(&shared, "k", hash("k"), shared.epoch(), e);
    offer_now(&e);
    assert_eq!(read(&shared, "k"), None, "one offer is not enough");
    // The second offer halved the others' hits; the third finds one idle.
    offer_now(&e);
    assert_eq!(
        read(&shared, "k"),
        None,
        "entries hit since are not pushed out"
    );
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
    let keys = keys_that_fit(48);
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
    // Reusing a slot for another tier gives the first tier's charge back too: a full set
    // makes room by dropping its least hit entry.
    for (i, key) in here.iter().enumerate().skip(1) {
        for _ in 0..=i {
            assert_eq!(read(&shared, key), Some(7));
        }
    }
    let other = tier(LARGE);
    for key in keys_in_the_set_of(&here[0], table::WAYS) {
        admit(&other, &key, &e);
    }
    assert_eq!(read(&shared, &here[0]), None);
    assert_eq!(shared.held.load(Ordering::Relaxed), 23 << 10);
}

#[test]
fn keys_that_share_a_set_all_stay() {
    let shared = tier(LARGE);
    let e = entry(10);
    let mut keys = keys_in_the_set_of("k", table::WAYS - 1);
    keys.push("k".into());
    for key in &keys {
        admit(&shared, key, &e);
    }
    for _ in 0..3 {
        for key in &keys {
            assert_eq!(read(&shared, key), Some(7), "{key} was pushed out");
        }
    }
}

#[test]
fn a_table_grows_while_its_hot_set_does_not_fit_and_stays_bounded() {
    let shared = tier(LARGE);
    let e = entry(10);
    let keys: Vec<String> = (0..table::MAX_SLOTS / 2)
        .map(|i| format!("hot{i}"))
        .collect();
    // Each round: a lookup that misses, then the offer a moka hit makes.
    for _ in 0..20 {
        for key in &keys {
            if read(&shared, key).is_none() {
                offer(&shared, key, hash(key), shared.epoch(), &e);
            }
        }
    }
    let held = keys.iter().filter(|k| read(&shared, k).is_some()).count();
    assert_eq!(table_len(), table::MAX_SLOTS);
    assert!(held > keys.len() * 9 / 10, "{held} held");
    // Growing moved the entries over: charges are those of the entries held.
    let charged: u64 = keys
        .iter()
        .filter(|k| read(&shared, k).is_some())
        .map(|k| u64::from(e.charge(k.len())))
        .sum();
    assert_eq!(shared.held.load(Ordering::Relaxed), charged);
}

#[test]
fn a_small_hot_set_is_held_in_a_small_table() {
    let shared = tier(LARGE);
    let e = entry(10);
    let keys: Vec<String> = (0..100).map(|i| format!("few{i}")).collect();
    for _ in 0..1_000 {
        for key in &keys {
            if read(&shared, key).is_none() {
                offer(&shared, key, hash(key), shared.epoch(), &e);
            }
        }
    }
    // Its warm-up (every key missing twice) may double the table once or twice, not more.
    assert!(table_len() <= 4 * table::MIN_SLOTS, "{} slots", table_len());
    assert!(keys.iter().all(|k| read(&shared, k).is_some()));
}

#[test]
fn a_slot_stays_small() {
    // The table's documented size (74 bytes a slot with its tag and candidate) rests on it,
    // and a hit reads one line of slot.
    assert_eq!(size_of::<table::Slot>(), 64);
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
