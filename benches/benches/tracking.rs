//! Invalidation by key tracking against the pub/sub backplane: two nodes (each a local tier in
//! front of one `redis-server` spawned for this run) share 200 keys and run a mix of reads
//! (`get_or_load`) and writes (`set`), alternating nodes at random.
//!
//! * criterion `tracking/<mix>/<mode>`: the time of 1,000 operations of the mix.
//! * FIGURE lines, from a fixed run of 20,000 operations per mix and mode: operations per
//!   second, the local hit ratio of reads, invalidation messages per write (`PUBLISH`es for the
//!   backplane, keys reported by tracking to both nodes for tracking), and Redis `GET`s per read.
//!
//! * FIGURE `<mix>_paired_median_us_per_500_ops`: batches alternating between the two modes
//!   (30 rounds), the ratio of their medians; the figure to quote on a shared machine.
//!
//! Mixes: `read_heavy` (95 % reads) and `write_heavy` (50 % writes).

use std::time::{Duration, Instant};

use benches::{Rng, Small, figure, per_sec, small};
use cache_core::{Cache, CacheKey, LocalTier, Options};
use cache_redis::test_support::RedisServer;
use cache_redis::{Invalidation, RedisTier};
use criterion::{Criterion, criterion_group, criterion_main};

const KEYS: i64 = 200;
const FIGURE_OPS: u64 = 20_000;
const BATCH: u64 = 1_000;
const PAIRED_ROUNDS: usize = 30;
const PAIRED_BATCH: u64 = 500;

struct Node {
    tier: RedisTier,
    cache: Cache,
}

struct Pair {
    nodes: [Node; 2],
    opts: Options,
    keys: Vec<CacheKey>,
}

async fn pair(url: &str, mode: Invalidation) -> Pair {
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let tier = RedisTier::builder(url)
            .invalidation(mode)
            .tracking_prefix("bench:")
            .connect()
            .await
            .expect("connect");
        let cache = Cache::builder()
            .namespace("bench")
            .local(LocalTier::new(64 << 20))
            .remote(tier.clone())
            .build();
        nodes.push(Node { tier, cache });
    }
    let [a, b]: [Node; 2] = nodes.try_into().unwrap_or_else(|_| unreachable!());
    Pair {
        nodes: [a, b],
        opts: Options::new()
            .ttl(Duration::from_secs(3600))
            .early_refresh(false),
        keys: (0..KEYS).map(|i| CacheKey::new("item", &i)).collect(),
    }
}

/// `ops` operations, `write_percent` of them `set`s; returns (reads, writes).
async fn run(pair: &Pair, rng: &mut Rng, ops: u64, write_percent: i64) -> (u64, u64) {
    let (mut reads, mut writes) = (0, 0);
    for _ in 0..ops {
        let node = &pair.nodes[rng.below(2) as usize].cache;
        let key = &pair.keys[rng.below(KEYS as u64) as usize];
        if rng.below(100) < write_percent {
            node.set(key, &small(), &pair.opts).await;
            writes += 1;
        } else {
            let got: Result<Small, ()> = node
                .get_or_load(key, &pair.opts, || async { Ok(small()) })
                .await;
            assert!(got.is_ok());
            reads += 1;
        }
    }
    (reads, writes)
}

fn command_calls(server: &RedisServer, command: &str) -> u64 {
    let stats = server.query(&["INFO", "commandstats"]).unwrap_or_default();
    stats
        .split(&format!("cmdstat_{command}:calls="))
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The fixed run behind the FIGURE lines of one mix and mode.
async fn figures(server: &RedisServer, mix: &str, write_percent: i64, mode: Invalidation) {
    let pair = pair(&server.url(), mode).await;
    let mut rng = Rng(0x7AC6);
    // Warm both local tiers first, so the ratio is about invalidations, not cold starts.
    run(&pair, &mut rng, 2_000, 0).await;
    let before = |p: &Pair| {
        p.nodes
            .iter()
            .map(|n| (n.cache.stats(), n.tier.stats()))
            .collect::<Vec<_>>()
    };
    let start_stats = before(&pair);
    let (publishes, gets) = (
        command_calls(server, "publish"),
        command_calls(server, "get"),
    );
    let started = Instant::now();
    let (reads, writes) = run(&pair, &mut rng, FIGURE_OPS, write_percent).await;
    let took = started.elapsed();
    // Let the last invalidations arrive before counting them.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let end_stats = before(&pair);
    let sum = |f: &dyn Fn(usize) -> u64| (0..2).map(f).sum::<u64>();
    let local_hits = sum(&|i| end_stats[i].0.local_hits - start_stats[i].0.local_hits);
    let reported =
        sum(&|i| end_stats[i].1.tracking_invalidations - start_stats[i].1.tracking_invalidations);
    let published = command_calls(server, "publish") - publishes;
    let got = command_calls(server, "get") - gets;
    let name = format!("{mix}_{mode:?}").to_lowercase();
    figure(
        "tracking",
        &format!("{name}_ops_per_sec"),
        per_sec(FIGURE_OPS, took),
    );
    figure(
        "tracking",
        &format!("{name}_local_hit_ratio"),
        format!("{:.3}", local_hits as f64 / reads as f64),
    );
    figure(
        "tracking",
        &format!("{name}_messages_per_write"),
        format!(
            "{:.2} (publish {published}, tracking keys {reported}, writes {writes})",
            (published + reported) as f64 / writes.max(1) as f64
        ),
    );
    figure(
        "tracking",
        &format!("{name}_redis_gets_per_read"),
        format!("{:.3}", got as f64 / reads as f64),
    );
}

fn median(mut samples: Vec<u128>) -> u128 {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Alternates batches of one mix between a backplane pair and a tracking pair, so drift on a
/// shared machine hits both alike, and prints the ratio of their median batch times.
async fn paired(server: &RedisServer, mix: &str, write_percent: i64) {
    let url = server.url();
    let pairs = [
        pair(&url, Invalidation::Backplane).await,
        pair(&url, Invalidation::Tracking).await,
    ];
    let mut rngs = [Rng(0x9A1), Rng(0x9A1)];
    for (pair, rng) in pairs.iter().zip(&mut rngs) {
        run(pair, rng, 2_000, 0).await;
    }
    let mut nanos = [Vec::new(), Vec::new()];
    for _ in 0..PAIRED_ROUNDS {
        for (i, pair) in pairs.iter().enumerate() {
            let started = Instant::now();
            run(pair, &mut rngs[i], PAIRED_BATCH, write_percent).await;
            nanos[i].push(started.elapsed().as_nanos());
        }
    }
    let [backplane, tracking] = nanos.map(median);
    figure(
        "tracking",
        &format!("{mix}_paired_median_us_per_{PAIRED_BATCH}_ops"),
        format!(
            "backplane {} / tracking {} = tracking takes {:.2}x ({PAIRED_ROUNDS} alternating rounds)",
            backplane / 1_000,
            tracking / 1_000,
            tracking as f64 / backplane as f64
        ),
    );
}

fn tracking(c: &mut Criterion) {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mixes = [("read_heavy", 5), ("write_heavy", 50)];
    let modes = [Invalidation::Backplane, Invalidation::Tracking];
    for (mix, write_percent) in mixes {
        for mode in modes {
            rt.block_on(figures(&server, mix, write_percent, mode));
        }
        rt.block_on(paired(&server, mix, write_percent));
    }
    for (mix, write_percent) in mixes {
        let mut group = c.benchmark_group(format!("tracking/{mix}"));
        group.sample_size(10);
        for mode in modes {
            let pair = rt.block_on(pair(&server.url(), mode));
            let mut rng = Rng(0xBE7C);
            rt.block_on(run(&pair, &mut rng, 2_000, 0));
            group.bench_function(format!("{mode:?}_{BATCH}_ops").to_lowercase(), |b| {
                b.iter_custom(|iters| {
                    let started = Instant::now();
                    for _ in 0..iters {
                        rt.block_on(run(&pair, &mut rng, BATCH, write_percent));
                    }
                    started.elapsed()
                })
            });
        }
        group.finish();
    }
    drop(rt);
    drop(server);
}

criterion_group!(benches, tracking);
criterion_main!(benches);
