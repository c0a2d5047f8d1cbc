//! `CacheKey::record`: `model/id`, the form of versioned keys without their stamp, and never
//! equal to a versioned, collection or other record key.

use std::collections::HashMap;

use cache_core::{CacheKey, Micros};
use proptest::prelude::*;

#[test]
fn a_record_key_is_model_slash_id() {
    assert_eq!(CacheKey::record("item", &4).as_str(), "item/4");
    assert_eq!(CacheKey::record("item", &(7, "a")).as_str(), "item/7:a");
    assert_eq!(CacheKey::record("item", &4).cache_name(), "item");
    assert!(
        !CacheKey::record("item", &"x".repeat(400))
            .as_str()
            .is_empty()
    );
}

/// Every id over a small alphabet that can spell stamps, dashes and escapes, up to 4 chars:
/// no two records share a text, and no record equals any versioned key of any of them.
#[test]
fn record_keys_never_collide_with_each_other_or_with_versioned_keys_exhaustively() {
    let alphabet = ['1', '2', 'n', '-', '%', 'D', 'q'];
    let mut ids = vec![String::new()];
    let mut frontier = vec![String::new()];
    for _ in 0..4 {
        frontier = frontier
            .iter()
            .flat_map(|id| alphabet.iter().map(move |c| format!("{id}{c}")))
            .collect();
        ids.extend(frontier.iter().cloned());
    }
    let mut records: HashMap<String, &str> = HashMap::new();
    for id in &ids {
        let text = CacheKey::record("item", id.as_str()).as_str().to_string();
        if let Some(other) = records.insert(text.clone(), id) {
            panic!("record ids {other:?} and {id:?} share the text {text}");
        }
    }
    let stamps = [0, 1, 12, 123, -1, -12, i64::MAX, i64::MIN];
    for id in &ids {
        for stamp in stamps {
            let versioned = CacheKey::versioned("item", id.as_str(), Micros(stamp));
            assert!(
                !records.contains_key(versioned.as_str()),
                "versioned({id:?}, {stamp}) = {versioned} is also a record key"
            );
        }
    }
}

#[test]
fn an_id_that_looks_like_a_versioned_tail_is_escaped() {
    let record = CacheKey::record("item", "4-123");
    assert_eq!(record.as_str(), "item/4%2D123");
    assert_ne!(record, CacheKey::versioned("item", &4, Micros(123)));
    let negative = CacheKey::record("item", "4-n5");
    assert_ne!(negative, CacheKey::versioned("item", &4, Micros(-5)));
    assert_eq!(CacheKey::record("item", "a-b").as_str(), "item/a-b");
}

proptest! {
    #[test]
    fn a_record_key_equals_only_the_record_key_of_the_same_id(
        a in "[0-9n%q-]{0,10}",
        b in "[0-9n%q-]{0,10}",
        stamp in any::<i64>(),
        count in 0_u64..1000,
    ) {
        let record = CacheKey::record("m", a.as_str());
        prop_assert_eq!(record == CacheKey::record("m", b.as_str()), a == b);
        prop_assert_ne!(&record, &CacheKey::versioned("m", b.as_str(), Micros(stamp)));
        prop_assert_ne!(&record, &CacheKey::collection("m", b.as_str(), count, Micros(stamp)));
        prop_assert_ne!(&record, &CacheKey::new("m", a.as_str()));
    }
}
