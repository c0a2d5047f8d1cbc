//! Codec: the example server's 800-store chain list (generated like seed 002, see
//! `benches::chain_stores`) in every candidate format: bytes, encode time, decode time.
//!
//! Formats: serde_json; rmp-serde compact (structs as arrays); rmp-serde named (structs as
//! maps, what the envelope carries); named + zstd level 1 and level 3 (`zstd::bulk`); and
//! cache-core's envelope as a whole (`Codec::encode` / `Codec::decode`, default config: named
//! MessagePack, zstd level 1 above 1 KiB, bounded decompression). `envelope_uncompressed` is the
//! envelope with compression off, to split the envelope's time into serialization and zstd;
//! `msgpack_compact_zstd1` and `msgpack_named_zstd1_reused_ctx` show two levers for the engine
//! (array-encoded structs, one zstd context reused across calls).

use std::hint::black_box;

use benches::{StoreJson, chain_stores, figure};
use cache_core::{Codec, CodecConfig, EntryMeta};
use criterion::{Criterion, criterion_group, criterion_main};

fn meta() -> EntryMeta {
    EntryMeta {
        fresh_until_ms: 1_800_000_000_000,
        stale_until_ms: 1_800_000_360_000,
        load_micros: 12_000,
    }
}

fn named(list: &[StoreJson]) -> Vec<u8> {
    rmp_serde::to_vec_named(list).expect("msgpack")
}

fn named_zstd(list: &[StoreJson], level: i32) -> Vec<u8> {
    zstd::bulk::compress(&named(list), level).expect("zstd")
}

fn compact_zstd(list: &[StoreJson], level: i32) -> Vec<u8> {
    zstd::bulk::compress(&rmp_serde::to_vec(list).expect("msgpack"), level).expect("zstd")
}

fn unzstd(bytes: &[u8], capacity: usize) -> Vec<StoreJson> {
    let payload = zstd::bulk::decompress(bytes, capacity).expect("unzstd");
    rmp_serde::from_slice(&payload).expect("msgpack")
}

fn codec(c: &mut Criterion) {
    let list = chain_stores(800);
    let envelope = Codec::default();
    let uncompressed = Codec::new(CodecConfig::default().compress_threshold(usize::MAX));
    let named_len = named(&list).len();

    let json = serde_json::to_vec(&list).expect("json");
    let compact_len = rmp_serde::to_vec(&list).expect("msgpack").len();
    let encoded: [(&str, Vec<u8>); 8] = [
        ("json", json.clone()),
        (
            "msgpack_compact",
            rmp_serde::to_vec(&list).expect("msgpack"),
        ),
        ("msgpack_compact_zstd1", compact_zstd(&list, 1)),
        ("msgpack_named", named(&list)),
        ("msgpack_named_zstd1", named_zstd(&list, 1)),
        ("msgpack_named_zstd3", named_zstd(&list, 3)),
        (
            "envelope",
            envelope.encode(&list, meta()).expect("envelope"),
        ),
        (
            "envelope_uncompressed",
            uncompressed.encode(&list, meta()).expect("envelope"),
        ),
    ];
    for (name, bytes) in &encoded {
        figure(
            "codec",
            &format!("{name}/bytes"),
            format!(
                "{} ({:.1} % of JSON)",
                bytes.len(),
                100.0 * bytes.len() as f64 / json.len() as f64
            ),
        );
    }

    let mut group = c.benchmark_group("codec_encode");
    group.bench_function("json", |b| {
        b.iter(|| serde_json::to_vec(black_box(&list)).expect("json"))
    });
    group.bench_function("msgpack_compact", |b| {
        b.iter(|| rmp_serde::to_vec(black_box(&list)).expect("msgpack"))
    });
    group.bench_function("msgpack_compact_zstd1", |b| {
        b.iter(|| compact_zstd(black_box(&list), 1))
    });
    group.bench_function("msgpack_named", |b| b.iter(|| named(black_box(&list))));
    group.bench_function("msgpack_named_zstd1", |b| {
        b.iter(|| named_zstd(black_box(&list), 1))
    });
    group.bench_function("msgpack_named_zstd3", |b| {
        b.iter(|| named_zstd(black_box(&list), 3))
    });
    // What reusing one zstd context (instead of one per call) would save.
    let mut compressor = zstd::bulk::Compressor::new(1).expect("zstd");
    group.bench_function("msgpack_named_zstd1_reused_ctx", |b| {
        b.iter(|| compressor.compress(&named(black_box(&list))).expect("zstd"))
    });
    group.bench_function("envelope", |b| {
        b.iter(|| envelope.encode(black_box(&list), meta()).expect("envelope"))
    });
    group.bench_function("envelope_uncompressed", |b| {
        b.iter(|| {
            uncompressed
                .encode(black_box(&list), meta())
                .expect("envelope")
        })
    });
    group.finish();

    let find = |name: &str| {
        encoded
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| bytes.as_slice())
            .expect("format")
    };
    let mut group = c.benchmark_group("codec_decode");
    let bytes = find("json");
    group.bench_function("json", |b| {
        b.iter(|| serde_json::from_slice::<Vec<StoreJson>>(black_box(bytes)).expect("json"))
    });
    let bytes = find("msgpack_compact");
    group.bench_function("msgpack_compact", |b| {
        b.iter(|| rmp_serde::from_slice::<Vec<StoreJson>>(black_box(bytes)).expect("msgpack"))
    });
    let bytes = find("msgpack_compact_zstd1");
    group.bench_function("msgpack_compact_zstd1", |b| {
        b.iter(|| {
            let payload = zstd::bulk::decompress(black_box(bytes), compact_len).expect("unzstd");
            rmp_serde::from_slice::<Vec<StoreJson>>(&payload).expect("msgpack")
        })
    });
    let bytes = find("msgpack_named");
    group.bench_function("msgpack_named", |b| {
        b.iter(|| rmp_serde::from_slice::<Vec<StoreJson>>(black_box(bytes)).expect("msgpack"))
    });
    let bytes = find("msgpack_named_zstd1");
    group.bench_function("msgpack_named_zstd1", |b| {
        b.iter(|| unzstd(black_box(bytes), named_len))
    });
    let bytes = find("msgpack_named_zstd3");
    group.bench_function("msgpack_named_zstd3", |b| {
        b.iter(|| unzstd(black_box(bytes), named_len))
    });
    let bytes = find("envelope");
    group.bench_function("envelope", |b| {
        b.iter(|| {
            envelope
                .decode::<Vec<StoreJson>>(black_box(bytes))
                .expect("envelope")
        })
    });
    let bytes = find("envelope_uncompressed");
    group.bench_function("envelope_uncompressed", |b| {
        b.iter(|| {
            uncompressed
                .decode::<Vec<StoreJson>>(black_box(bytes))
                .expect("envelope")
        })
    });
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
