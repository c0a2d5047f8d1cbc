//! What the fuzz targets assert. Shared verbatim with `integration/tests/it/fuzz_corpus.rs`,
//! which includes this file with `#[path]`, so every corpus entry is replayed by `cargo test`.
//!
//! * [`envelope`]: decoding never panics; whatever decodes agrees with `decode_meta`, keeps
//!   `stale_until >= fresh_until`, and survives an encode/decode round trip unchanged.
//! * [`keys`]: building a key never panics; the text is at most `MAX_KEY_LEN` bytes, has no
//!   space or control character, keeps its name and schema version, and two different inputs
//!   of the same shape (or of different kinds of key) never give the same text.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::mem::discriminant;

use arbitrary::{Arbitrary, Unstructured};
use cache_core::{CacheKey, Codec, CodecConfig, EntryMeta, Error, KeyPart, KeyWriter, MAX_KEY_LEN};
use cache_core::{Micros, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A record shaped like the example server's stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Store {
    id: i64,
    name: String,
    tags: Vec<String>,
    owner: Option<Owner>,
    open: bool,
}

/// A nested struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    id: u64,
    email: String,
}

/// An enum with unit, newtype and struct variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Status {
    Open,
    Moved(u32),
    Closed { reason: String, at: i64 },
}

/// Decodes `data` as an envelope of several types.
pub fn envelope(data: &[u8]) {
    // A small cap keeps every input fast; the bounds are the same code as with the default.
    let codec = Codec::new(CodecConfig::default().max_decoded_bytes(1 << 20));
    let meta = Codec::decode_meta(data);
    if let Ok(meta) = &meta {
        assert!(meta.stale_until_ms >= meta.fresh_until_ms, "{meta:?}");
    }
    round_trip::<Store>(&codec, data, &meta);
    round_trip::<Vec<Status>>(&codec, data, &meta);
    round_trip::<BTreeMap<String, Option<i64>>>(&codec, data, &meta);
    round_trip::<(String, Vec<u8>, bool)>(&codec, data, &meta);
}

fn round_trip<T>(codec: &Codec, data: &[u8], meta: &Result<EntryMeta>)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let Ok((decoded_meta, value)) = codec.decode::<T>(data) else {
        return;
    };
    assert_eq!(
        meta.as_ref().ok(),
        Some(&decoded_meta),
        "decode_meta agrees"
    );
    match codec.encode(&value, decoded_meta) {
        Ok(again) => {
            let back = codec.decode::<T>(&again).expect("re-encoded value decodes");
            assert_eq!(back, (decoded_meta, value), "round trip");
        }
        // A non-canonical input (e.g. a struct as an array) can re-encode larger than the cap.
        Err(Error::TooLarge { .. }) => {}
        Err(error) => panic!("a decoded value does not re-encode: {error}"),
    }
}

/// An `f64` that compares by bits (every NaN equal), as keys do.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Float(f64);

impl PartialEq for Float {
    fn eq(&self, other: &Float) -> bool {
        (self.0.is_nan() && other.0.is_nan()) || self.0.to_bits() == other.0.to_bits()
    }
}

impl KeyPart for Float {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        out.f64(self.0);
    }
}

/// Key parts of several shapes; only parts of the same shape must give different keys.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum Parts {
    Text(String),
    Int(i64),
    Pair(String, u32),
    Triple(Option<String>, bool, i128),
    List(Vec<String>),
    Nested(Vec<Option<(String, i16)>>),
    Maybe(Option<Option<String>>),
    Chars(Vec<char>),
    Map(BTreeMap<String, Vec<u8>>),
    Floats(Float, Vec<Float>),
    Unit,
}

impl KeyPart for Parts {
    fn write_key(&self, out: &mut KeyWriter<'_>) {
        match self {
            Parts::Text(s) => out.part(s),
            Parts::Int(i) => out.part(i),
            Parts::Pair(s, n) => out.part(&(s, n)),
            Parts::Triple(a, b, c) => out.part(&(a, b, c)),
            Parts::List(v) => out.part(v),
            Parts::Nested(v) => out.part(v),
            Parts::Maybe(o) => out.part(o),
            Parts::Chars(v) => out.part(v),
            Parts::Map(m) => out.part(m),
            Parts::Floats(f, v) => out.part(&(f, v)),
            Parts::Unit => out.part(&()),
        }
    }
}

/// One way of building a key.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
pub enum KeyInput {
    New {
        name: String,
        schema: u32,
        parts: Parts,
    },
    Versioned {
        model: String,
        id: Parts,
        stamp: i64,
    },
    Collection {
        model: String,
        query: Parts,
        count: u64,
        stamp: i64,
    },
}

impl KeyInput {
    fn build(&self) -> CacheKey {
        match self {
            KeyInput::New {
                name,
                schema,
                parts,
            } => CacheKey::with_schema(name, *schema, parts),
            KeyInput::Versioned { model, id, stamp } => {
                CacheKey::versioned(model, id, Micros(*stamp))
            }
            KeyInput::Collection {
                model,
                query,
                count,
                stamp,
            } => CacheKey::collection(model, query, *count, Micros(*stamp)),
        }
    }

    fn name(&self) -> &str {
        match self {
            KeyInput::New { name, .. } => name,
            KeyInput::Versioned { model, .. } | KeyInput::Collection { model, .. } => model,
        }
    }

    fn schema(&self) -> u32 {
        match self {
            KeyInput::New { schema, .. } => *schema,
            _ => 0,
        }
    }

    /// Same kind of key with parts of the same shape: different inputs must differ.
    fn same_shape(&self, other: &KeyInput) -> bool {
        match (self, other) {
            (KeyInput::New { parts: a, .. }, KeyInput::New { parts: b, .. })
            | (KeyInput::Versioned { id: a, .. }, KeyInput::Versioned { id: b, .. })
            | (KeyInput::Collection { query: a, .. }, KeyInput::Collection { query: b, .. }) => {
                discriminant(a) == discriminant(b)
            }
            _ => false,
        }
    }
}

/// Builds two keys from `data` and checks them.
pub fn keys(data: &[u8]) {
    let Ok((a, b)) = <(KeyInput, KeyInput)>::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let (key_a, key_b) = (a.build(), b.build());
    for (input, key) in [(&a, &key_a), (&b, &key_b)] {
        let text = key.as_str();
        assert!(text.len() <= MAX_KEY_LEN, "{} bytes: {text}", text.len());
        assert!(
            !text.chars().any(|c| c == ' ' || c.is_control()),
            "{text:?}"
        );
        assert_eq!(key.cache_name(), input.name());
        assert_eq!(key.schema_version(), input.schema());
        assert_eq!(key.is_hashed(), text.contains('#'), "{text}");
        assert_eq!(&input.build(), key, "deterministic");
    }
    let different_kinds = discriminant(&a) != discriminant(&b);
    if a != b && (different_kinds || a.same_shape(&b)) {
        assert_ne!(key_a, key_b, "{a:?} and {b:?} share a key");
    }
}
