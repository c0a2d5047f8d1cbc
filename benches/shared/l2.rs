//! The reads the L2 bench (`benches/l2_hit.rs`) and the profile example
//! (`examples/l2_profile.rs`) both time: an L2 hit through the cache, the same bytes read raw,
//! and 64 tasks of either. Included by both with `#[path]`, so they measure the same code.

use std::hint::black_box;
use std::time::{Duration, Instant};

use benches::Small;
use cache_core::codec::HEADER_LEN;
use cache_core::{Cache, CacheKey, Options};
use redis::aio::MultiplexedConnection;

/// Where the MessagePack payload starts in a stored value: after the write head (marker byte
/// and token, see `cache_redis::fenced`) and the envelope header. The raw baseline decodes the
/// very bytes the cache reads.
pub const PAYLOAD: usize = cache_redis::fenced::HEAD_LEN + HEADER_LEN;

/// Long-lived entries, no early refresh: every timed read is a plain hit.
pub fn opts() -> Options {
    Options::new()
        .ttl(Duration::from_secs(3600))
        .early_refresh(false)
}

/// The 100 keys the L2 benches read, each holding a `small()` stored through `cache`, with the
/// key Redis knows each by.
pub async fn seeded(cache: &Cache) -> (Vec<CacheKey>, Vec<String>) {
    let keys: Vec<CacheKey> = (0..100_i64).map(|i| CacheKey::new("l2", &i)).collect();
    let remote_keys: Vec<String> = keys.iter().map(|k| cache.remote_key(k)).collect();
    for key in &keys {
        cache.set(key, &benches::small(), &opts()).await;
    }
    (keys, remote_keys)
}

/// One `get_or_load` that Redis answers (no local tier).
pub async fn ours_get(cache: &Cache, key: &CacheKey, opts: &Options) -> Small {
    let got: Result<Small, ()> = cache.get_or_load(key, opts, || async { Err(()) }).await;
    got.expect("every read is a Redis hit")
}

/// The same read by hand: `GET` and decode of the payload.
pub async fn raw_get(conn: &mut MultiplexedConnection, key: &str) -> Small {
    let bytes: Vec<u8> = redis::cmd("GET")
        .arg(key)
        .query_async(conn)
        .await
        .expect("GET");
    rmp_serde::from_slice(&bytes[PAYLOAD..]).expect("decode")
}

/// One task per key, each reading its key `per_task` times; the wall time for all of them.
pub async fn ours_tasks(cache: &Cache, keys: &[CacheKey], per_task: u64) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = keys
        .iter()
        .map(|key| {
            let (cache, key, opts) = (cache.clone(), key.clone(), opts());
            tokio::spawn(async move {
                for _ in 0..per_task {
                    black_box(ours_get(&cache, &key, &opts).await);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    started.elapsed()
}

/// [`ours_tasks`] by hand on one multiplexed connection.
pub async fn raw_tasks(conn: &MultiplexedConnection, keys: &[String], per_task: u64) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = keys
        .iter()
        .map(|key| {
            let (mut conn, key) = (conn.clone(), key.clone());
            tokio::spawn(async move {
                for _ in 0..per_task {
                    black_box(raw_get(&mut conn, &key).await);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    started.elapsed()
}
