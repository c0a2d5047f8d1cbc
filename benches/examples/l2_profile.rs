//! A fixed number of Redis reads for `valgrind --tool=callgrind`: instruction counts per
//! operation are repeatable on a busy machine where times are not. Run each mode with two
//! counts and divide the difference of the totals by the difference of the counts, so the
//! set-up (server start, connect) cancels out:
//!
//! ```sh
//! CARGO_PROFILE_RELEASE_DEBUG=true cargo build --release -p benches --example l2_profile
//! valgrind --tool=callgrind target/release/examples/l2_profile ours 2000
//! ```
//!
//! Modes: `ours` (`get_or_load`, an L2 hit, no local tier), `raw` (redis-rs `GET` + rmp
//! decode), `many` (`get_many` of 100 keys), `mget` (raw `MGET` of 100 keys + decode),
//! `ours64` and `raw64` (64 tasks on distinct keys, `count` reads each, as in L1).
//!
//! `paired` instead times, on a 2-worker runtime like `l2_hit`: the L2 hit against raw
//! `GET` + decode (medians of alternating reads), `get_many` of 100 keys against raw `MGET` +
//! decode (the same), and 64 tasks on distinct keys against raw (alternating rounds, the
//! median of each side's requests per second). It prints one `FIGURE` line per ratio:
//!
//! ```sh
//! cargo run --release -p benches --example l2_profile -- paired
//! ```

use std::hint::black_box;
use std::time::Instant;

use benches::Small;
use cache_redis::test_support::RedisServer;
use redis::aio::MultiplexedConnection;

#[path = "../shared/l2.rs"]
mod l2;
#[path = "../shared/remote.rs"]
mod remote;
use l2::{PAYLOAD, opts, ours_get, ours_tasks, raw_get, raw_tasks, seeded};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "ours".into());
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let server = RedisServer::start();
    if mode == "paired" {
        paired(&server);
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (cache, mut conn) = remote::connect(&server).await;
        let opts = opts();
        let (keys, remote_keys) = seeded(&cache).await;
        // 64 tasks on distinct keys (L1), `count` reads each: how the load batches on one
        // connection, with instructions counted per request rather than timed.
        match mode.as_str() {
            "ours64" => {
                black_box(ours_tasks(&cache, &keys[..64], count as u64).await);
                return;
            }
            "raw64" => {
                black_box(raw_tasks(&conn, &remote_keys[..64], count as u64).await);
                return;
            }
            _ => {}
        }
        for _ in 0..count {
            match mode.as_str() {
                "ours" => {
                    let got: Result<Small, ()> = cache
                        .get_or_load(&keys[0], &opts, || async { Err(()) })
                        .await;
                    black_box(got.expect("hit"));
                }
                "raw" => {
                    let bytes: Vec<u8> = redis::cmd("GET")
                        .arg(&remote_keys[0])
                        .query_async(&mut conn)
                        .await
                        .expect("GET");
                    let value: Small = rmp_serde::from_slice(&bytes[PAYLOAD..]).expect("decode");
                    black_box(value);
                }
                "many" => {
                    let got = cache.get_many::<Small>(&keys).await;
                    assert!(got.iter().all(Option::is_some));
                    black_box(got);
                }
                "mget" => {
                    let found: Vec<Vec<u8>> = redis::cmd("MGET")
                        .arg(&remote_keys)
                        .query_async(&mut conn)
                        .await
                        .expect("MGET");
                    let values: Vec<Small> = found
                        .iter()
                        .map(|bytes| rmp_serde::from_slice(&bytes[PAYLOAD..]).expect("decode"))
                        .collect();
                    black_box(values);
                }
                other => panic!("unknown mode {other}"),
            }
        }
    });
    drop(rt);
    drop(server);
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn report(name: &str, ours: f64, raw: f64, unit: &str) {
    println!(
        "FIGURE l2_profile {name}: ours {ours:.1} {unit} / raw {raw:.1} {unit} = {:.3}x",
        ours / raw
    );
}

async fn raw_mget(conn: &mut MultiplexedConnection, keys: &[String]) -> Vec<Small> {
    let found: Vec<Vec<u8>> = redis::cmd("MGET")
        .arg(keys)
        .query_async(conn)
        .await
        .expect("MGET");
    found
        .iter()
        .map(|bytes| rmp_serde::from_slice(&bytes[PAYLOAD..]).expect("decode"))
        .collect()
}

/// Nanoseconds `op` took.
async fn timed<F: std::future::Future>(op: F) -> f64 {
    let started = Instant::now();
    black_box(op.await);
    started.elapsed().as_nanos() as f64
}

fn paired(server: &RedisServer) {
    const TASKS: usize = 64;
    const PER_TASK: usize = 1_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (cache, conn) = remote::connect(server).await;
        let opts = opts();
        let (keys, remote_keys) = seeded(&cache).await;
        let mut c = conn.clone();
        let (mut ours, mut raw) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            ours.push(timed(ours_get(&cache, &keys[0], &opts)).await);
            raw.push(timed(raw_get(&mut c, &remote_keys[0])).await);
        }
        report("l2_hit_median", median(ours) / 1e3, median(raw) / 1e3, "us");
        let (mut ours, mut raw) = (Vec::new(), Vec::new());
        for _ in 0..2_000 {
            ours.push(timed(cache.get_many::<Small>(&keys)).await);
            raw.push(timed(raw_mget(&mut c, &remote_keys)).await);
        }
        report(
            "get_many_100_median",
            median(ours) / 1e3,
            median(raw) / 1e3,
            "us",
        );
        let (mut ours, mut raw) = (Vec::new(), Vec::new());
        let requests = (TASKS * PER_TASK) as f64;
        for _ in 0..7 {
            let took = ours_tasks(&cache, &keys[..TASKS], PER_TASK as u64).await;
            ours.push(requests / took.as_secs_f64());
            let took = raw_tasks(&conn, &remote_keys[..TASKS], PER_TASK as u64).await;
            raw.push(requests / took.as_secs_f64());
        }
        report("tasks_64_rps_median", median(ours), median(raw), "req/s");
    });
}
