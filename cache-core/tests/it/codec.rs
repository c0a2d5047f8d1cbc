//! Behaviour of the envelope codec: round trips, schema evolution, compression policy and
//! every way decoding can fail.

use cache_core::codec::{FLAG_COMPRESSED, FORMAT_V1, HEADER_LEN};
use cache_core::{Codec, CodecConfig, EntryMeta, Error};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    name: String,
    emails: Vec<String>,
    nickname: Option<String>,
    manager: Option<u64>,
    scores: Vec<u32>,
}

fn profile() -> Profile {
    Profile {
        id: 42,
        name: "Grace Hopper".to_owned(),
        emails: vec!["grace@example.com".to_owned(), "gh@example.org".to_owned()],
        nickname: Some("Amazing Grace".to_owned()),
        manager: None,
        scores: vec![1, 2, 3, u32::MAX],
    }
}

fn meta() -> EntryMeta {
    EntryMeta {
        fresh_until_ms: 1_700_000_000_000,
        stale_until_ms: 1_700_000_300_000,
        load_micros: 12_345,
    }
}

/// Deterministic, poorly compressible bytes.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A valid envelope header followed by `payload`.
fn envelope(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![FORMAT_V1, flags];
    bytes.extend_from_slice(&[0; HEADER_LEN - 2]);
    bytes.extend_from_slice(payload);
    bytes
}

#[test]
fn struct_with_strings_vecs_and_options_round_trips() {
    let codec = Codec::default();
    for value in [
        profile(),
        Profile {
            nickname: None,
            manager: Some(7),
            emails: Vec::new(),
            ..profile()
        },
    ] {
        let bytes = codec.encode(&value, meta()).unwrap();
        assert_eq!(bytes[0], FORMAT_V1);
        let (back_meta, back): (EntryMeta, Profile) = codec.decode(&bytes).unwrap();
        assert_eq!(back_meta, meta());
        assert_eq!(back, value);
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct V1 {
    a: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct V2 {
    a: String,
    #[serde(default)]
    b: u32,
}

#[test]
fn new_field_with_default_reads_old_entries() {
    let codec = Codec::default();
    let old = codec.encode(&V1 { a: "x".into() }, meta()).unwrap();
    let (_, v2): (EntryMeta, V2) = codec.decode(&old).unwrap();
    assert_eq!(
        v2,
        V2 {
            a: "x".into(),
            b: 0
        }
    );
}

#[test]
fn old_reader_ignores_unknown_fields() {
    let codec = Codec::default();
    let new = codec
        .encode(
            &V2 {
                a: "y".into(),
                b: 9,
            },
            meta(),
        )
        .unwrap();
    let (_, v1): (EntryMeta, V1) = codec.decode(&new).unwrap();
    assert_eq!(v1, V1 { a: "y".into() });
}

#[test]
fn fields_are_stored_by_name() {
    let bytes = Codec::default()
        .encode(&V1 { a: "z".into() }, meta())
        .unwrap();
    // fixmap(1) { fixstr "a": fixstr "z" }
    assert_eq!(&bytes[HEADER_LEN..], &[0x81, 0xA1, b'a', 0xA1, b'z']);
}

#[test]
fn payload_at_threshold_is_not_compressed_and_above_it_is() {
    let codec = Codec::new(CodecConfig::default().compress_threshold(100));
    // str8 marker + length byte + n bytes: 98 chars is exactly 100 payload bytes.
    let at = codec.encode(&"a".repeat(98), meta()).unwrap();
    assert_eq!(at.len(), HEADER_LEN + 100);
    assert!(!Codec::is_compressed(&at));
    assert_eq!(at[1], 0);

    let above = codec.encode(&"a".repeat(99), meta()).unwrap();
    assert!(Codec::is_compressed(&above));
    assert_eq!(above[1], FLAG_COMPRESSED);
    assert!(above.len() < HEADER_LEN + 101);
    let (_, back): (EntryMeta, String) = codec.decode(&above).unwrap();
    assert_eq!(back, "a".repeat(99));
}

/// Serializes as MessagePack `bin`, so random bytes stay incompressible.
struct Bin(Vec<u8>);

impl Serialize for Bin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

#[test]
fn incompressible_payload_is_stored_plain() {
    let codec = Codec::new(CodecConfig::default().compress_threshold(16));
    let random = noise(4096);
    let bytes = codec.encode(&Bin(random.clone()), meta()).unwrap();
    assert!(!Codec::is_compressed(&bytes));
    assert_eq!(bytes[1], 0);
    // bin16 marker, big-endian length, then the bytes themselves.
    assert_eq!(&bytes[HEADER_LEN..HEADER_LEN + 3], &[0xC5, 0x10, 0x00]);
    assert_eq!(&bytes[HEADER_LEN + 3..], &random[..]);
}

#[test]
fn max_threshold_disables_compression() {
    let codec = Codec::new(CodecConfig::default().compress_threshold(usize::MAX));
    let bytes = codec.encode(&"z".repeat(100_000), meta()).unwrap();
    assert!(!Codec::is_compressed(&bytes));
}

#[test]
fn compression_level_is_configurable() {
    let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta"];
    let noise = noise(20_000);
    let text: Vec<&str> = noise
        .iter()
        .map(|b| words[*b as usize % words.len()])
        .collect();
    let fast = Codec::new(CodecConfig::default().compression_level(1));
    let best = Codec::new(CodecConfig::default().compression_level(19));
    assert_eq!(best.config().compression_level, 19);
    let a = fast.encode(&text, meta()).unwrap();
    let b = best.encode(&text, meta()).unwrap();
    assert!(Codec::is_compressed(&a) && Codec::is_compressed(&b));
    assert!(
        b.len() < a.len(),
        "level 19 ({}) vs level 1 ({})",
        b.len(),
        a.len()
    );
    // Either level decodes with either codec.
    let (_, back): (EntryMeta, Vec<String>) = fast.decode(&b).unwrap();
    assert_eq!(back, text);
}

#[test]
fn meta_round_trips_including_extremes() {
    let codec = Codec::default();
    for m in [
        EntryMeta::default(),
        meta(),
        EntryMeta {
            fresh_until_ms: u64::MAX,
            stale_until_ms: u64::MAX,
            load_micros: u32::MAX,
        },
    ] {
        let bytes = codec.encode(&(), m).unwrap();
        assert_eq!(Codec::decode_meta(&bytes).unwrap(), m);
        assert_eq!(Codec::decode_meta(&bytes[..HEADER_LEN]).unwrap(), m);
        assert_eq!(codec.decode::<()>(&bytes).unwrap().0, m);
    }
    let m = meta();
    let bytes = codec.encode(&1u8, m).unwrap();
    assert_eq!(bytes[2..10], m.fresh_until_ms.to_be_bytes());
    assert_eq!(bytes[10..18], m.stale_until_ms.to_be_bytes());
    assert_eq!(bytes[18..22], m.load_micros.to_be_bytes());
}

#[test]
fn stale_before_fresh_is_raised_to_fresh() {
    let inverted = EntryMeta {
        fresh_until_ms: 500,
        stale_until_ms: 100,
        load_micros: 1,
    };
    let bytes = Codec::default().encode(&(), inverted).unwrap();
    assert_eq!(Codec::decode_meta(&bytes).unwrap().stale_until_ms, 500);
    // A foreign writer's inverted header is normalised on read, too.
    let mut raw = envelope(0, &[0xC0]);
    raw[2..10].copy_from_slice(&9u64.to_be_bytes());
    raw[10..18].copy_from_slice(&3u64.to_be_bytes());
    assert_eq!(Codec::decode_meta(&raw).unwrap().stale_until_ms, 9);
}

#[test]
fn empty_input_is_truncated() {
    let err = Codec::default().decode::<()>(&[]).unwrap_err();
    assert_eq!(
        err,
        Error::Truncated {
            needed: HEADER_LEN,
            found: 0
        }
    );
    assert_eq!(Codec::decode_meta(&[]).unwrap_err(), err);
    assert!(!Codec::is_compressed(&[]));
}

#[test]
fn every_truncation_is_an_error() {
    for threshold in [usize::MAX, 0] {
        let codec = Codec::new(CodecConfig::default().compress_threshold(threshold));
        let value = Profile {
            emails: vec!["repeated@example.com".to_owned(); 40],
            ..profile()
        };
        let bytes = codec.encode(&value, meta()).unwrap();
        assert_eq!(Codec::is_compressed(&bytes), threshold == 0);
        for len in 0..bytes.len() {
            let result = codec.decode::<Profile>(&bytes[..len]);
            assert!(result.is_err(), "prefix of {len} bytes decoded");
            if len < HEADER_LEN {
                assert_eq!(
                    result.unwrap_err(),
                    Error::Truncated {
                        needed: HEADER_LEN,
                        found: len
                    }
                );
            }
        }
    }
}

#[test]
fn wrong_format_byte_is_unknown_format() {
    let mut bytes = Codec::default().encode(&1u32, meta()).unwrap();
    for format in [0x00, 0xC0, 0xC2, 0xFF] {
        bytes[0] = format;
        assert_eq!(
            Codec::decode_meta(&bytes).unwrap_err(),
            Error::UnknownFormat(format)
        );
        assert_eq!(
            Codec::default().decode::<u32>(&bytes).unwrap_err(),
            Error::UnknownFormat(format)
        );
    }
}

#[test]
fn unknown_flag_bits_are_rejected() {
    let bytes = Codec::default().encode(&1u32, meta()).unwrap();
    for bit in 1..8 {
        let mut bad = bytes.clone();
        bad[1] |= 1 << bit;
        assert_eq!(
            Codec::default().decode::<u32>(&bad).unwrap_err(),
            Error::UnknownFlags(1 << bit)
        );
        assert!(!Codec::is_compressed(&bad));
    }
}

#[test]
fn compressed_flag_with_garbage_payload_is_decompress_error() {
    let codec = Codec::default();
    for payload in [&b""[..], b"not zstd at all", &noise(300)] {
        let err = codec
            .decode::<String>(&envelope(FLAG_COMPRESSED, payload))
            .unwrap_err();
        assert!(matches!(err, Error::Decompress(_)), "{err:?}");
    }
    // A valid frame followed by bytes that are not a frame.
    let mut good = codec.encode(&"q".repeat(5000), meta()).unwrap();
    assert!(Codec::is_compressed(&good));
    good.extend_from_slice(b"junk");
    assert!(matches!(
        codec.decode::<String>(&good),
        Err(Error::Decompress(_))
    ));
}

#[test]
fn concatenated_frames_within_the_cap_decode_as_one_payload() {
    let msgpack = rmp_serde::to_vec_named(&"w".repeat(3000)).unwrap();
    let (first, second) = msgpack.split_at(1000);
    let mut frames = zstd::bulk::compress(first, 1).unwrap();
    frames.extend(zstd::bulk::compress(second, 1).unwrap());
    let bytes = envelope(FLAG_COMPRESSED, &frames);
    let (_, value): (EntryMeta, String) = Codec::default().decode(&bytes).unwrap();
    assert_eq!(value, "w".repeat(3000));
}

#[test]
fn payloads_past_one_mebibyte_round_trip_through_the_streaming_path() {
    // Over 1 MiB decompressed, so decoding streams instead of decompressing in one call.
    let value: Vec<String> = (0..100_000).map(|i| format!("entry {i:06}")).collect();
    let codec = Codec::default();
    let bytes = codec.encode(&value, meta()).unwrap();
    assert!(Codec::is_compressed(&bytes));
    assert!(rmp_serde::to_vec_named(&value).unwrap().len() > 1 << 20);
    let (_, back): (EntryMeta, Vec<String>) = codec.decode(&bytes).unwrap();
    assert_eq!(back, value);
}

#[test]
fn a_corrupt_entry_does_not_spoil_the_next_decode_or_encode() {
    // Encoding and decoding reuse one zstd context per thread; a failure midway must leave it
    // usable.
    let codec = Codec::default();
    let good = codec.encode(&"z".repeat(4000), meta()).unwrap();
    let mut corrupt = good.clone();
    let last = corrupt.len() - 1;
    corrupt[HEADER_LEN + 8..last].fill(0xA5);
    for _ in 0..3 {
        assert!(codec.decode::<String>(&corrupt).is_err());
        assert!(codec.decode::<String>(&good[..good.len() - 3]).is_err());
        let (_, value): (EntryMeta, String) = codec.decode(&good).unwrap();
        assert_eq!(value, "z".repeat(4000));
        assert_eq!(codec.encode(&"z".repeat(4000), meta()).unwrap(), good);
    }
}

#[test]
fn valid_msgpack_of_another_type_is_deserialize_error() {
    let codec = Codec::default();
    let bytes = codec.encode(&V1 { a: "x".into() }, meta()).unwrap();
    assert!(matches!(
        codec.decode::<Vec<u32>>(&bytes),
        Err(Error::Deserialize(_))
    ));
    assert!(matches!(
        codec.decode::<Profile>(&bytes),
        Err(Error::Deserialize(_))
    ));
    let bytes = codec.encode(&"text", meta()).unwrap();
    assert!(matches!(
        codec.decode::<u64>(&bytes),
        Err(Error::Deserialize(_))
    ));
}

#[test]
fn trailing_bytes_after_the_value_are_rejected() {
    let codec = Codec::default();
    let mut bytes = codec.encode(&7u32, meta()).unwrap();
    bytes.push(0xC0);
    let err = codec.decode::<u32>(&bytes).unwrap_err();
    assert!(
        matches!(&err, Error::Deserialize(m) if m.contains("trailing")),
        "{err:?}"
    );
    // Same inside a compressed payload.
    let mut msgpack = rmp_serde::to_vec_named(&"t".repeat(2000)).unwrap();
    msgpack.push(0xC0);
    let bytes = envelope(FLAG_COMPRESSED, &zstd::bulk::compress(&msgpack, 1).unwrap());
    assert!(matches!(
        codec.decode::<String>(&bytes),
        Err(Error::Deserialize(_))
    ));
}

#[test]
fn cap_applies_to_plain_payloads_and_to_encoding() {
    let small = Codec::new(CodecConfig::default().max_decoded_bytes(100));
    let big_value = "b".repeat(200);
    let compressing = Codec::new(CodecConfig::default().compress_threshold(0));
    let bytes = compressing.encode(&big_value, meta()).unwrap();
    assert!(Codec::is_compressed(&bytes));
    assert_eq!(
        small.decode::<String>(&bytes).unwrap_err(),
        Error::TooLarge { cap: 100 }
    );

    let plain = Codec::new(CodecConfig::default().compress_threshold(usize::MAX))
        .encode(&big_value, meta())
        .unwrap();
    assert_eq!(
        small.decode::<String>(&plain).unwrap_err(),
        Error::TooLarge { cap: 100 }
    );

    assert_eq!(
        small.encode(&big_value, meta()).unwrap_err(),
        Error::TooLarge { cap: 100 }
    );
    // Exactly at the cap is fine: 98 chars + 2 bytes of str8 header.
    let at_cap = small.encode(&"c".repeat(98), meta()).unwrap();
    assert_eq!(small.decode::<String>(&at_cap).unwrap().1, "c".repeat(98));
}

struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refuses to serialize"))
    }
}

#[test]
fn serialize_failure_is_serialize_error() {
    let err = Codec::default()
        .encode(&Unserializable, meta())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Serialize(m) if m.contains("refuses")),
        "{err:?}"
    );
}

#[test]
fn config_defaults_and_setters() {
    let default = CodecConfig::default();
    assert_eq!(default.compress_threshold, 1024);
    assert_eq!(default.compression_level, 1);
    assert_eq!(default.max_decoded_bytes, 64 << 20);
    let c = CodecConfig::default()
        .compress_threshold(1)
        .compression_level(5)
        .max_decoded_bytes(2);
    assert_eq!(
        (
            c.compress_threshold,
            c.compression_level,
            c.max_decoded_bytes
        ),
        (1, 5, 2)
    );
    assert_eq!(Codec::new(c).config().max_decoded_bytes, 2);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let codec = Codec::new(CodecConfig::default().max_decoded_bytes(1 << 20));
        let _ = codec.decode::<(String, Vec<u32>)>(&bytes);
        let _ = codec.decode::<serde_json::Value>(&bytes);
        let _ = Codec::decode_meta(&bytes);
        let _ = Codec::is_compressed(&bytes);
        // Behind a valid header so the payload paths are exercised too.
        for flags in [0, FLAG_COMPRESSED] {
            let wrapped = envelope(flags, &bytes);
            let _ = codec.decode::<serde_json::Value>(&wrapped);
            let _ = codec.decode::<Profile>(&wrapped);
        }
        // Behind a zstd magic number, so zstd parses the rest as a frame.
        let mut framed = vec![0x28, 0xB5, 0x2F, 0xFD];
        framed.extend_from_slice(&bytes);
        let _ = codec.decode::<serde_json::Value>(&envelope(FLAG_COMPRESSED, &framed));
    }

    #[test]
    fn values_round_trip(
        value in (".*", proptest::collection::vec(any::<u32>(), 0..300)),
        threshold in prop_oneof![Just(0usize), Just(64), Just(usize::MAX)],
        fresh in any::<u64>(),
        extra in any::<u64>(),
        load in any::<u32>(),
    ) {
        let codec = Codec::new(CodecConfig::default().compress_threshold(threshold));
        let m = EntryMeta {
            fresh_until_ms: fresh,
            stale_until_ms: fresh.saturating_add(extra),
            load_micros: load,
        };
        let bytes = codec.encode(&value, m).unwrap();
        let (back_meta, back): (EntryMeta, (String, Vec<u32>)) = codec.decode(&bytes).unwrap();
        prop_assert_eq!(back_meta, m);
        prop_assert_eq!(back, value);
    }
}
