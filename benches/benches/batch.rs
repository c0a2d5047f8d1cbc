//! Batch get-or-load: 100 ids, 50 of them already in Redis (no local tier, so every lookup
//! reaches Redis; a `redis-server` spawned on a free port for this run). Every iteration starts
//! from the same state: the missing half is deleted again before it, outside the timing.
//!
//! * `ours_get_or_load_many`: one call — one `MGET`, 50 pipelined leases, one loader call,
//!   50 fenced fills.
//! * `ours_100_single_get_or_load`: 100 sequential `get_or_load` calls (50 hits, 50 loads).
//! * `raw_mget_load_pipelined_set`: redis-rs by hand — `MGET` of the 100 keys, decode of the
//!   50 present, one loader call for the 50 missing, one pipelined `SET … PX` of them. No
//!   leases, no fencing, no envelope: the floor a batch could reach.
//!
//! Also printed: paired medians (the three variants alternate, so drift on a shared machine
//! hits all alike) and their ratios.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::{Small, figure, small};
use cache_core::codec::HEADER_LEN;
use cache_core::{Cache, CacheKey, Options};
use cache_redis::test_support::RedisServer;
use criterion::{Criterion, criterion_group, criterion_main};
use redis::aio::MultiplexedConnection;

#[path = "../shared/remote.rs"]
mod remote;

/// Where the MessagePack payload starts in a value the cache stored (see `l2_hit`).
const PAYLOAD: usize = cache_redis::fenced::HEAD_LEN + HEADER_LEN;
const IDS: u32 = 100;
const PAIRED_ROUNDS: usize = 200;

fn opts() -> Options {
    Options::new()
        .ttl(Duration::from_secs(3600))
        .early_refresh(false)
}

fn key_of(id: &u32) -> CacheKey {
    CacheKey::new("batch", id)
}

/// The database: one call for any number of ids.
async fn load_rows(ids: Vec<u32>) -> Result<HashMap<u32, Small>, ()> {
    Ok(ids.into_iter().map(|id| (id, small())).collect())
}

struct Setup {
    cache: Cache,
    conn: MultiplexedConnection,
    ids: Vec<u32>,
    remote_keys: Vec<String>,
    /// The remote keys of the half that is missing at the start of every iteration.
    missing: Vec<String>,
}

impl Setup {
    /// Deletes the missing half again (whatever the last iteration stored there).
    async fn reset(&self) {
        let mut conn = self.conn.clone();
        let _: () = redis::cmd("UNLINK")
            .arg(&self.missing)
            .query_async(&mut conn)
            .await
            .expect("UNLINK");
    }

    async fn ours_many(&self) -> usize {
        let got = self
            .cache
            .get_or_load_many(self.ids.iter().copied(), key_of, &opts(), load_rows)
            .await
            .expect("loaded");
        got.iter().filter(|v| v.is_some()).count()
    }

    async fn ours_singles(&self) -> usize {
        let mut found = 0;
        for id in &self.ids {
            let load = || async { Ok::<_, ()>(small()) };
            let got = self.cache.get_or_load(&key_of(id), &opts(), load).await;
            found += usize::from(got.is_ok());
        }
        found
    }

    async fn raw(&self) -> usize {
        let mut conn = self.conn.clone();
        let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(&self.remote_keys)
            .query_async(&mut conn)
            .await
            .expect("MGET");
        let mut values: Vec<Option<Small>> = (found.iter())
            .map(|bytes| Some(rmp_serde::from_slice(&bytes.as_ref()?[PAYLOAD..]).expect("decode")))
            .collect();
        let missing: Vec<u32> = (self.ids.iter().zip(&values))
            .filter(|(_, value)| value.is_none())
            .map(|(id, _)| *id)
            .collect();
        let mut loaded = load_rows(missing.clone()).await.expect("loaded");
        let mut pipe = redis::pipe();
        for id in &missing {
            let bytes = rmp_serde::to_vec(&loaded[id]).expect("encode");
            let key = &self.remote_keys[*id as usize];
            pipe.cmd("SET")
                .arg(key)
                .arg(bytes)
                .arg("PX")
                .arg(3_600_000)
                .ignore();
        }
        let _: () = pipe.query_async(&mut conn).await.expect("SET pipeline");
        for id in missing {
            values[id as usize] = loaded.remove(&id);
        }
        values.iter().filter(|v| v.is_some()).count()
    }
}

fn setup(rt: &tokio::runtime::Runtime, server: &RedisServer) -> Setup {
    rt.block_on(async {
        let (cache, conn) = remote::connect(server).await;
        let ids: Vec<u32> = (0..IDS).collect();
        let remote_keys: Vec<String> = ids.iter().map(|id| cache.remote_key(&key_of(id))).collect();
        for id in ids.iter().filter(|id| *id % 2 == 0) {
            cache.set(&key_of(id), &small(), &opts()).await;
        }
        let missing = (ids.iter().filter(|id| *id % 2 == 1))
            .map(|id| remote_keys[*id as usize].clone())
            .collect();
        Setup {
            cache,
            conn,
            ids,
            remote_keys,
            missing,
        }
    })
}

/// The time of `run` from the reset state, `iters` times.
async fn timed<F: AsyncFn(&Setup) -> usize>(setup: &Setup, iters: u64, run: F) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        setup.reset().await;
        let started = Instant::now();
        assert_eq!(black_box(run(setup).await), IDS as usize);
        total += started.elapsed();
    }
    total
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn batch(c: &mut Criterion) {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let setup = setup(&rt, &server);
    let s = &setup;

    let mut group = c.benchmark_group("batch_100_half_cached");
    group.bench_function("ours_get_or_load_many", |b| {
        b.to_async(&rt)
            .iter_custom(|iters| timed(s, iters, Setup::ours_many))
    });
    group.bench_function("ours_100_single_get_or_load", |b| {
        b.to_async(&rt)
            .iter_custom(|iters| timed(s, iters, Setup::ours_singles))
    });
    group.bench_function("raw_mget_load_pipelined_set", |b| {
        b.to_async(&rt)
            .iter_custom(|iters| timed(s, iters, Setup::raw))
    });
    group.finish();

    let (many, singles, raw) = rt.block_on(async {
        let (mut many, mut singles, mut raw) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..PAIRED_ROUNDS {
            many.push(timed(s, 1, Setup::ours_many).await);
            singles.push(timed(s, 1, Setup::ours_singles).await);
            raw.push(timed(s, 1, Setup::raw).await);
        }
        (median(many), median(singles), median(raw))
    });
    figure(
        "batch",
        "paired_median",
        format!(
            "many {many:?} / singles {singles:?} / raw {raw:?} ({PAIRED_ROUNDS} alternating rounds)"
        ),
    );
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    figure(
        "batch",
        "singles_over_many",
        format!("{:.2}x", ratio(singles, many)),
    );
    figure(
        "batch",
        "many_over_raw",
        format!("{:.2}x", ratio(many, raw)),
    );
}

criterion_group!(benches, batch);
criterion_main!(benches);
