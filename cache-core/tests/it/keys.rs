//! Behaviour of `cache_core::CacheKey` and the key encoding.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cache_core::{CacheKey, KeyPart, KeyWriter, MAX_KEY_LEN, Micros, VersionStamp};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn key(parts: &(impl KeyPart + ?Sized)) -> String {
    CacheKey::new("t", parts).as_str().to_owned()
}

fn sha_hex_128(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

// ---- exact texts -------------------------------------------------------

#[test]
fn new_writes_name_then_colon_separated_fields() {
    assert_eq!(
        CacheKey::new("users", &("acme", 42)).as_str(),
        "users:acme:42"
    );
    assert_eq!(CacheKey::new("users", &42_i64).as_str(), "users:42");
    assert_eq!(CacheKey::new("users", &()).as_str(), "users:");
}

#[test]
fn with_schema_inserts_at_version_and_omits_version_zero() {
    assert_eq!(
        CacheKey::with_schema("users", 3, &("acme", 42)).as_str(),
        "users@3:acme:42"
    );
    assert_eq!(
        CacheKey::with_schema("users", 0, &("acme", 42)),
        CacheKey::new("users", &("acme", 42))
    );
    let key = CacheKey::with_schema("users", 3, &1);
    assert_eq!((key.cache_name(), key.schema_version()), ("users", 3));
}

#[test]
fn with_schema_version_rewrites_every_kind_of_key() {
    let plain = CacheKey::new("users", &("acme", 42)).with_schema_version(7);
    assert_eq!(plain.as_str(), "users@7:acme:42");
    assert_eq!(plain.schema_version(), 7);
    assert_eq!(
        plain.clone().with_schema_version(0).as_str(),
        "users:acme:42"
    );
    let versioned = CacheKey::versioned("store", &42, Micros(5)).with_schema_version(2);
    assert_eq!(versioned.as_str(), "store@2/42-5");
    let collection =
        CacheKey::collection("chains", &("acme", true), 3, Micros(9)).with_schema_version(4);
    assert_eq!(
        collection.as_str(),
        "chains@4/query-db77ddf66f4429c7e59664a0ab45eaab-3-9"
    );
    let escaped = CacheKey::new("a:b", &1).with_schema_version(1);
    assert_eq!(
        (escaped.as_str(), escaped.cache_name()),
        ("a%3Ab@1:1", "a:b")
    );
}

#[test]
fn versioned_writes_id_dash_microseconds() {
    let key = CacheKey::versioned("store", &42, Micros(1_732_700_000_123_456));
    assert_eq!(key.as_str(), "store/42-1732700000123456");
    assert_eq!((key.cache_name(), key.schema_version()), ("store", 0));
    assert_eq!(
        CacheKey::versioned("store", &("acme", 42), Micros(0)).as_str(),
        "store/acme:42-0"
    );
}

#[test]
fn versioned_negative_timestamp_is_written_with_n_so_last_dash_splits() {
    assert_eq!(
        CacheKey::versioned("store", &42, Micros(-5)).as_str(),
        "store/42-n5"
    );
    assert_eq!(
        CacheKey::versioned("store", &-42, Micros(-5)).as_str(),
        "store/-42-n5"
    );
    assert_eq!(
        CacheKey::versioned("store", &1, Micros(i64::MIN)).as_str(),
        "store/1-n9223372036854775808"
    );
    assert_ne!(
        CacheKey::versioned("s", "a-", Micros(1)),
        CacheKey::versioned("s", "a", Micros(-1))
    );
}

#[test]
fn versioned_accepts_system_time_and_references() {
    let t = UNIX_EPOCH + Duration::from_nanos(1_500_999);
    assert_eq!(CacheKey::versioned("s", &1, t).as_str(), "s/1-1500");
    let by_ref: &Micros = &Micros(3);
    assert_eq!(CacheKey::versioned("s", &1, by_ref).as_str(), "s/1-3");
    let before = UNIX_EPOCH - Duration::from_nanos(1);
    assert_eq!(before.version_micros(), -1, "rounded towards the past");
}

#[test]
fn collection_writes_digest_count_and_max_stamp() {
    let key = CacheKey::collection("chains", &("acme", true), 12, Micros(1_732_700_000_123_456));
    let digest = sha_hex_128("acme:true");
    assert_eq!(
        key.as_str(),
        format!("chains/query-{digest}-12-1732700000123456")
    );
    assert_eq!(key.cache_name(), "chains");
    let other = CacheKey::collection(
        "chains",
        &("acme", false),
        12,
        Micros(1_732_700_000_123_456),
    );
    assert_ne!(key, other);
    assert_eq!(
        CacheKey::collection("c", &(), 0, Micros(-1)).as_str(),
        format!("c/query-{}-0-n1", sha_hex_128(""))
    );
}

#[test]
fn versioned_id_cannot_impersonate_a_collection_key() {
    let collection = CacheKey::collection("chains", &("acme", true), 12, Micros(1));
    let id = "query-db77ddf66f4429c7e59664a0ab45eaab-12";
    let forged = CacheKey::versioned("chains", id, Micros(1));
    assert_ne!(forged, collection);
    assert_eq!(
        forged.as_str(),
        "chains/%71uery-db77ddf66f4429c7e59664a0ab45eaab-12-1"
    );
}

// ---- escaping ----------------------------------------------------------

#[test]
fn separators_inside_strings_are_escaped_so_fields_never_shift() {
    assert_eq!(key(&("a:b", "c")), "t:a%3Ab:c");
    assert_eq!(key(&("a", "b:c")), "t:a:b%3Ac");
    assert_ne!(key(&("a:b", "c")), key(&("a", "b:c")));
    assert_ne!(key(&vec!["a,b"]), key(&vec!["a", "b"]));
}

#[test]
fn every_reserved_character_is_percent_encoded() {
    assert_eq!(key("%:,[]~/#@ "), "t:%25%3A%2C%5B%5D%7E%2F%23%40%20");
    assert_eq!(key("a\nb\t\u{7f}\u{85}"), "t:a%0Ab%09%7F%C2%85");
    assert_eq!(key("café-ü_ok.日本"), "t:café-ü_ok.日本");
}

#[test]
fn cache_names_are_escaped_and_returned_unescaped() {
    let key = CacheKey::new("users:acme", &42);
    assert_eq!(key.as_str(), "users%3Aacme:42");
    assert_eq!(key.cache_name(), "users:acme");
    assert_ne!(CacheKey::new("a:b", &"c"), CacheKey::new("a", &("b", "c")));
    assert_ne!(CacheKey::new("a@1", &1), CacheKey::with_schema("a", 1, &1));
    assert_ne!(
        CacheKey::new("a/1-2", &()),
        CacheKey::versioned("a", &1, Micros(2))
    );
    assert_eq!(CacheKey::new("", &1).as_str(), "%:1");
}

#[test]
fn empty_string_is_a_lone_percent_distinct_from_no_field() {
    assert_eq!(key(""), "t:%");
    assert_ne!(key(&("", "")), key(&("",)));
    assert_eq!(key(&Vec::<String>::new()), "t:[]");
    assert_eq!(key(&vec![""]), "t:[%]");
    assert_eq!(key(&vec![(), ()]), "t:[%,%]");
}

// ---- encodings of the provided KeyPart impls ---------------------------

#[test]
fn options_use_tilde_and_stay_injective_when_nested() {
    assert_eq!(key(&None::<Option<u8>>), "t:~");
    assert_eq!(key(&Some(None::<u8>)), "t:~~");
    assert_eq!(key(&Some(Some(5))), "t:5");
    assert_eq!(key(&Some(Some(Some(None::<u8>)))), "t:~~~~");
    assert_eq!(key(&(1, Some((None::<u8>, 2)))), "t:1:~~:2");
    assert_eq!(key(&(Some(()), None::<()>)), "t:%:~");
    assert_eq!(key(&(None::<()>, Some(()))), "t:~:%");
    assert_eq!(key(&vec![None, Some("~")]), "t:[~,%7E]");
}

#[test]
fn lists_bracket_items_and_tuples_flatten_inside_them() {
    assert_eq!(key(&vec![("a", 1), ("b", 2)]), "t:[a:1,b:2]");
    assert_eq!(key(&vec![vec!["a"], vec![]]), "t:[[a],[]]");
    assert_eq!(key(&[1_u8, 2, 3]), "t:[1,2,3]");
    assert_eq!(key(&[1_u8, 2][..]), "t:[1,2]");
    assert_eq!(key(&VecDeque::from([3, 4])), "t:[3,4]");
    assert_eq!(key(&BTreeSet::from(["b", "a"])), "t:[a,b]");
    assert_eq!(key(&BTreeMap::from([("b", 2), ("a", 1)])), "t:[a:1,b:2]");
    assert_eq!(
        key(&(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)),
        "t:1:2:3:4:5:6:7:8:9:10:11:12"
    );
}

#[test]
fn scalars_have_fixed_readable_encodings() {
    assert_eq!(
        key(&(-7_i8, 255_u8, u128::MAX, i128::MIN)),
        format!("t:-7:255:{}:{}", u128::MAX, i128::MIN)
    );
    assert_eq!(
        key(&(usize::MAX, isize::MIN)),
        format!("t:{}:{}", usize::MAX, isize::MIN)
    );
    assert_eq!(key(&(true, false, ':')), "t:true:false:%3A");
    assert_eq!(
        key(&(1.0_f64, 0.1_f32, 1e-7_f64, f64::NAN)),
        "t:1.0:0.1:1e-7:NaN"
    );
    assert_ne!(key(&0.0_f64), key(&-0.0_f64));
    assert_eq!(key(&std::borrow::Cow::Borrowed("x")), "t:x");
    assert_eq!(
        key(&(Box::new(1), Arc::new("a"), std::rc::Rc::new(2), &&3)),
        "t:1:a:2:3"
    );
}

#[test]
fn times_are_written_as_exact_integers() {
    assert_eq!(key(&Duration::new(1, 5)), "t:1000000005");
    assert_eq!(
        key(&(UNIX_EPOCH + Duration::from_micros(1_732_700_000_123_456))),
        "t:1732700000123456"
    );
    assert_eq!(key(&(UNIX_EPOCH - Duration::from_nanos(1_500))), "t:-2");
    let now = SystemTime::now();
    assert_eq!(key(&now), key(&now));
}

#[cfg(feature = "uuid")]
#[test]
fn uuid_is_hyphenated_lowercase() {
    let id = uuid::Uuid::from_u128(0x67E5_5044_10B1_426F_9247_BB68_0E5F_E0C8);
    assert_eq!(key(&id), "t:67e55044-10b1-426f-9247-bb680e5fe0c8");
}

#[cfg(feature = "chrono")]
#[test]
fn chrono_instants_are_microseconds_regardless_of_time_zone() {
    use chrono::{FixedOffset, NaiveDate, TimeZone, Utc};
    let utc = Utc
        .timestamp_micros(1_732_700_000_123_456)
        .single()
        .expect("valid");
    let paris = utc.with_timezone(&FixedOffset::east_opt(3600).expect("valid"));
    assert_eq!(key(&utc), "t:1732700000123456");
    assert_eq!(key(&utc), key(&paris));
    assert_eq!(key(&utc.naive_utc()), "t:1732700000123456");
    assert_eq!(paris.version_micros(), 1_732_700_000_123_456);
    assert_eq!(utc.naive_utc().version_micros(), 1_732_700_000_123_456);
    let date = NaiveDate::from_ymd_opt(2024, 11, 27).expect("valid");
    assert_eq!(key(&date), "t:2024-11-27");
    assert_eq!(
        CacheKey::versioned("s", &1, utc).as_str(),
        "s/1-1732700000123456"
    );
}

#[test]
fn custom_key_parts_compose_through_the_writer() {
    struct Query {
        tenant: &'static str,
        ids: Vec<u32>,
        flag: Option<bool>,
        score: f64,
        big: i128,
    }
    impl KeyPart for Query {
        fn write_key(&self, out: &mut KeyWriter<'_>) {
            out.str(self.tenant);
            out.list(&self.ids);
            out.option(self.flag.as_ref());
            out.f64(self.score);
            out.part(&("x", self.big));
            out.u128(1);
        }
    }
    let q = Query {
        tenant: "a b",
        ids: vec![1, 2],
        flag: None,
        score: 0.5,
        big: -1,
    };
    assert_eq!(key(&q), "t:a%20b:[1,2]:~:0.5:x:-1:1");
}

// ---- long keys -----------------------------------------------------------

#[test]
fn long_keys_are_shortened_to_prefix_hash_digest() {
    let long = "x".repeat(400);
    let key = CacheKey::new("users", &long);
    let text = key.as_str();
    assert!(key.is_hashed());
    assert!(text.len() <= MAX_KEY_LEN);
    assert!(text.starts_with("users:xxxx"));
    let (prefix, digest) = text.rsplit_once('#').expect("has #");
    assert!(prefix.len() > 200, "readable prefix kept");
    assert_eq!(digest, sha_hex_128(&format!("users:{long}")));
    assert!(
        digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
}

#[test]
fn long_keys_differing_only_at_the_end_differ() {
    let a = CacheKey::new("users", &format!("{}a", "x".repeat(300)));
    let b = CacheKey::new("users", &format!("{}b", "x".repeat(300)));
    assert_ne!(a, b);
    assert_eq!(
        a.as_str().rsplit_once('#').map(|p| p.0),
        b.as_str().rsplit_once('#').map(|p| p.0)
    );
}

#[test]
fn keys_up_to_the_limit_are_kept_whole() {
    let exact = CacheKey::new("t", &"y".repeat(MAX_KEY_LEN - 2));
    assert_eq!(exact.as_str().len(), MAX_KEY_LEN);
    assert!(!exact.is_hashed());
    assert!(!exact.as_str().contains('#'));
    let over = CacheKey::new("t", &"y".repeat(MAX_KEY_LEN - 1));
    assert!(over.is_hashed());
}

#[test]
fn shortening_cuts_on_a_char_boundary() {
    let key = CacheKey::new("t", &"é".repeat(300));
    assert!(key.is_hashed());
    assert!(key.as_str().len() <= MAX_KEY_LEN);
    assert!(
        key.as_str()
            .trim_end_matches(|c: char| c.is_ascii_hexdigit())
            .ends_with("é#")
    );
}

#[test]
fn schema_version_of_a_shortened_key_uses_the_full_text() {
    let parts = "z".repeat(300);
    let rebuilt = CacheKey::new("t", &parts).with_schema_version(2);
    assert_eq!(rebuilt, CacheKey::with_schema("t", 2, &parts));
    assert_eq!(
        rebuilt.as_str().rsplit_once('#').map(|p| p.1.to_owned()),
        Some(sha_hex_128(&format!("t@2:{parts}")))
    );
}

// ---- std traits --------------------------------------------------------

/// Records the bytes written, to compare hashes without a process-random hasher.
#[derive(Default)]
struct Recorder(Vec<u8>);
impl Hasher for Recorder {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

#[test]
fn hash_matches_str_so_maps_can_be_queried_by_str() {
    let key = CacheKey::new("users", &("acme", 42));
    let (mut from_key, mut from_str) = (Recorder::default(), Recorder::default());
    key.hash(&mut from_key);
    "users:acme:42".hash(&mut from_str);
    assert_eq!(from_key.0, from_str.0);
    let map = HashMap::from([(key.clone(), 1)]);
    assert_eq!(map.get("users:acme:42"), Some(&1));
    assert_eq!(map.get("users:acme:43"), None);
}

#[test]
fn stable_hash_is_pinned_xxh3_of_the_text() {
    // xxh3_64(b"users:acme:42"), cross-checked with the Python `xxhash` package.
    assert_eq!(
        CacheKey::new("users", &("acme", 42)).stable_hash(),
        5_815_305_173_933_688_568
    );
}

#[test]
fn display_debug_as_ref_and_ordering_use_the_text() {
    let key = CacheKey::new("users", &("acme", 42));
    assert_eq!(key.to_string(), "users:acme:42");
    assert_eq!(format!("{key:?}"), r#"CacheKey("users:acme:42")"#);
    assert_eq!(AsRef::<str>::as_ref(&key), "users:acme:42");
    let mut keys = [
        CacheKey::new("b", &1),
        CacheKey::new("a", &2),
        CacheKey::new("a", &1),
    ];
    keys.sort();
    let texts: Vec<&str> = keys.iter().map(CacheKey::as_str).collect();
    assert_eq!(texts, ["a:1", "a:2", "b:1"]);
}

// ---- exhaustive injectivity over a small universe ------------------------

/// Every string of length <= 2 over characters that matter to the grammar.
fn small_strings() -> Vec<String> {
    let alphabet = ['a', ':', ',', '[', ']', '~', '%', '#'];
    let mut out = vec![String::new()];
    out.extend(alphabet.iter().map(|c| c.to_string()));
    for a in alphabet {
        out.extend(alphabet.iter().map(|b| format!("{a}{b}")));
    }
    out
}

/// Every list of length <= 2 of `items`.
fn small_vecs<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    let mut out = vec![vec![]];
    out.extend(items.iter().map(|a| vec![a.clone()]));
    for a in items {
        out.extend(items.iter().map(|b| vec![a.clone(), b.clone()]));
    }
    out
}

fn options<T: Clone>(items: &[T]) -> Vec<Option<T>> {
    std::iter::once(None)
        .chain(items.iter().cloned().map(Some))
        .collect()
}

fn pairs<A: Clone, B: Clone>(a: &[A], b: &[B]) -> Vec<(A, B)> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| (x.clone(), y.clone())))
        .collect()
}

/// Distinct values must give distinct texts.
fn assert_injective<T: KeyPart + std::fmt::Debug + PartialEq>(values: &[T]) {
    let mut seen: HashMap<String, &T> = HashMap::with_capacity(values.len());
    for value in values {
        if let Some(previous) = seen.insert(key(value), value) {
            assert_eq!(previous, value, "both encode as {}", key(value));
        }
    }
}

#[test]
fn exhaustive_small_values_never_share_a_key() {
    let strings = small_strings();
    assert_injective(&pairs(&strings, &strings));
    assert_injective(&small_vecs(&strings));
    assert_injective(&options(&options(&strings)));
    assert_injective(&options(&options(&options(&pairs(
        &options(&[0_u8, 1]),
        &[0_u8, 1],
    )))));
    let tuple_lists = small_vecs(&pairs(&strings, &[true, false]));
    assert_injective(&pairs(&options(&[-1_i64, 0, 1]), &tuple_lists));
    let short: Vec<String> = strings.iter().filter(|s| s.len() <= 1).cloned().collect();
    assert_injective(&small_vecs(&small_vecs(&short)));
    let triples: Vec<(String, Option<String>, u64)> =
        pairs(&pairs(&strings, &options(&strings)), &[0_u64, 1])
            .into_iter()
            .map(|((a, b), c)| (a, b, c))
            .collect();
    assert_injective(&triples);
    assert_injective(&pairs(&options(&[(), ()][..1]), &options(&[()])));
    assert_injective(&small_vecs(&options(&[()])));
    assert_injective(&small_vecs(&[()]));
}

// ---- properties --------------------------------------------------------

const RESERVED: &str = "[:,\\[\\]~/#@% a-c]{0,6}";
/// Few short strings, so that colliding encodings would actually be drawn.
const TINY: &str = "[:,\\[\\]~%a]{0,2}";

fn strings() -> BoxedStrategy<String> {
    prop_oneof![4 => TINY, 2 => RESERVED, 1 => any::<String>()].boxed()
}

/// `a == b  <=>  key(a) == key(b)`, checked over every pair of a batch of
/// values (a batch finds near-collisions far more often than a single pair).
macro_rules! injective {
    ($($name:ident: $strategy:expr;)*) => {
        proptest! {
            $(
                #[test]
                fn $name(values in prop::collection::vec($strategy, 1..40)) {
                    let texts: Vec<String> = values.iter().map(|v| key(v)).collect();
                    for (i, a) in values.iter().enumerate() {
                        prop_assert_eq!(&texts[i], &key(&a.clone()));
                        for (j, b) in values.iter().enumerate().skip(i + 1) {
                            prop_assert_eq!(a == b, texts[i] == texts[j], "{:?} / {:?}", a, b);
                        }
                    }
                }
            )*
        }
    };
}

injective! {
    prop_string_pair_keys_are_injective: (strings(), strings());
    prop_string_vec_keys_are_injective: prop::collection::vec(strings(), 0..4);
    prop_nested_option_keys_are_injective: prop::option::of(prop::option::of(strings()));
    prop_option_and_tuple_list_keys_are_injective: (
        prop::option::of(-3_i64..3),
        prop::collection::vec((strings(), any::<bool>()), 0..3),
    );
    prop_nested_vec_keys_are_injective: prop::collection::vec(prop::collection::vec(strings(), 0..3), 0..3);
    prop_string_option_u64_keys_are_injective: (strings(), prop::option::of(strings()), 0_u64..3);
    prop_triple_nested_option_tuple_keys_are_injective: (
        prop::option::of(prop::option::of(prop::option::of((prop::option::of(0_u8..2), 0_u8..2)))),
        prop::option::of(prop::option::of(0_u8..2)),
    );
}

proptest! {
    #[test]
    fn prop_keys_never_exceed_max_len(
        name in "[a-z:é]{0,300}",
        parts in prop::collection::vec(any::<String>(), 0..8),
        long in "[:é x]{200,400}",
    ) {
        let key = CacheKey::new(&name, &(&parts, &long));
        prop_assert!(key.as_str().len() <= MAX_KEY_LEN);
        prop_assert_eq!(key.is_hashed(), key.as_str().contains('#'));
        prop_assert_eq!(key.cache_name(), name.as_str());
        let versioned = CacheKey::versioned(&name, &long, Micros(-1));
        prop_assert!(versioned.as_str().len() <= MAX_KEY_LEN);
    }

    #[test]
    fn prop_versioned_keys_are_injective(
        a in (strings(), any::<i64>()),
        b in (strings(), any::<i64>()),
    ) {
        let ka = CacheKey::versioned("s", &a.0, Micros(a.1));
        let kb = CacheKey::versioned("s", &b.0, Micros(b.1));
        prop_assert_eq!(a == b, ka == kb);
    }
}
