//! A Redis fill: what storing a load's result costs now that it is fenced (one Lua call that
//! compares the key's head with the lease it holds, then `SET … PX`), against a raw `SET … PX`
//! of the same bytes on the same kind of connection. Also counts the commands one cold
//! `get_or_load` sends: the fill must stay one round trip.
//!
//! * `fill/ours_fenced_fill` vs `fill/raw_set_px`: criterion, each fill preceded (untimed) by
//!   taking a fresh lease.
//! * a paired figure: medians of 5,000 alternating fill / SET rounds, which drift cannot skew.

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::{figure, small};
use cache_core::{Cache, CacheKey, Codec, EntryMeta, Fence, Lease, Options, RemoteTier};
use cache_redis::RedisTier;
use cache_redis::test_support::RedisServer;
use criterion::{Criterion, criterion_group, criterion_main};
use redis::aio::MultiplexedConnection;

const PAIRED_ROUNDS: usize = 5_000;
const TTL: Duration = Duration::from_secs(3600);

fn envelope() -> Vec<u8> {
    let meta = EntryMeta {
        fresh_until_ms: u64::MAX / 2,
        stale_until_ms: u64::MAX / 2,
        load_micros: 0,
    };
    Codec::default().encode(&small(), meta).expect("encode")
}

async fn leased(tier: &RedisTier, key: &str) -> Fence {
    match tier.try_lease(key, TTL, &[], None).await.expect("lease") {
        Lease::Acquired(token) => Fence::Lease(token),
        other => panic!("no lease: {other:?}"),
    }
}

async fn fill(tier: &RedisTier, key: &str, bytes: &[u8], fence: Fence) {
    let written = tier.fill(key, bytes, TTL, &[], fence).await.expect("fill");
    assert!(written.is_some(), "the fence held");
}

async fn raw_set(conn: &mut MultiplexedConnection, key: &str, bytes: &[u8]) {
    let () = redis::cmd("SET")
        .arg(key)
        .arg(bytes)
        .arg("PX")
        .arg(TTL.as_millis() as u64)
        .query_async(conn)
        .await
        .expect("SET");
}

fn calls(server: &RedisServer, command: &str) -> u64 {
    let stats = server.query(&["INFO", "commandstats"]).unwrap_or_default();
    stats
        .split(&format!("cmdstat_{command}:calls="))
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn median(mut samples: Vec<u128>) -> u128 {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn fill_bench(c: &mut Criterion) {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (tier, mut conn) = rt.block_on(async {
        let tier = RedisTier::connect(&server.url()).await.expect("connect");
        let conn = redis::Client::open(server.url())
            .expect("client")
            .get_multiplexed_async_connection()
            .await
            .expect("raw connection");
        (tier, conn)
    });
    let bytes = envelope();

    // One cold get_or_load through a cache without a local tier: which commands, how many.
    // A first cold load loads the scripts (EVALSHA, NOSCRIPT, SCRIPT LOAD); the second is the
    // steady state. Redis counts the SETs the scripts run under `set`.
    let cache = Cache::builder()
        .without_local()
        .remote(tier.clone())
        .build();
    let commands = ["get", "evalsha", "set", "unlink", "publish"];
    let cold_load = |i: i64| {
        rt.block_on(async {
            let opts = Options::new().ttl(TTL);
            let got: Result<_, ()> = cache
                .get_or_load(&CacheKey::new("cold", &i), &opts, || async { Ok(small()) })
                .await;
            got.expect("load");
        })
    };
    cold_load(0);
    let before: Vec<u64> = commands.iter().map(|c| calls(&server, c)).collect();
    cold_load(1);
    let sent: Vec<String> = commands
        .iter()
        .zip(&before)
        .map(|(c, b)| format!("{c} {}", calls(&server, c) - b))
        .collect();
    figure("fill", "cold_get_or_load_commands", sent.join(", "));
    figure(
        "fill",
        "round_trips_per_fill",
        "1 (the fill script; the GET and the lease script precede the load; each script runs one SET)",
    );

    let mut group = c.benchmark_group("fill");
    let mut n = 0_u64;
    group.bench_function("ours_fenced_fill", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut took = Duration::ZERO;
                for _ in 0..iters {
                    n += 1;
                    let key = format!("fill:{n}");
                    let fence = leased(&tier, &key).await;
                    let started = Instant::now();
                    fill(&tier, &key, &bytes, fence).await;
                    took += started.elapsed();
                }
                took
            })
        })
    });
    group.bench_function("raw_set_px", |b| {
        b.to_async(&rt).iter(|| {
            let mut conn = conn.clone();
            let bytes = &bytes;
            async move { raw_set(&mut conn, "raw", bytes).await }
        })
    });
    group.finish();

    let (ours_ns, raw_ns) = rt.block_on(async {
        let (mut ours, mut raw) = (Vec::new(), Vec::new());
        for i in 0..PAIRED_ROUNDS {
            let key = format!("paired:{i}");
            let fence = leased(&tier, &key).await;
            let started = Instant::now();
            fill(&tier, &key, &bytes, fence).await;
            ours.push(started.elapsed().as_nanos());
            let started = Instant::now();
            raw_set(&mut conn, &format!("rawpaired:{i}"), &bytes).await;
            raw.push(started.elapsed().as_nanos());
            black_box(&key);
        }
        (median(ours), median(raw))
    });
    figure(
        "fill",
        "paired_median_ns",
        format!(
            "ours {ours_ns} / raw {raw_ns} = {:.3}x ({PAIRED_ROUNDS} alternating rounds)",
            ours_ns as f64 / raw_ns as f64
        ),
    );
    drop(cache);
    drop(tier);
    drop(rt);
    drop(server);
}

criterion_group!(benches, fill_bench);
criterion_main!(benches);
