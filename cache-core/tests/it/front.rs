//! The per-thread front of the local tier never serves what the cache no longer holds: hot keys
//! (read often enough to be in a thread's front) see invalidations, writes, tag invalidations
//! and expiry exactly as cold ones do, from the same thread and from others.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cache_core::{Cache, CacheKey, Options, cached};
use common::local_only;

/// Reads `key` through the sync path `n` times; returns the last value and how many loads ran.
fn read_hot(cache: &Cache, key: &CacheKey, opts: &Options, version: &AtomicU32, n: usize) -> u32 {
    let mut last = 0;
    for _ in 0..n {
        last = cache
            .get_or_load_sync(key, opts, || Ok::<_, ()>(version.load(Ordering::SeqCst)))
            .unwrap();
    }
    last
}

#[test]
fn invalidate_set_and_tags_reach_a_hot_key_on_this_thread() {
    let cache = local_only();
    let version = AtomicU32::new(1);
    let key = CacheKey::new("hot", &1);
    let opts = Options::new().ttl(Duration::from_secs(60)).tags(["t"]);
    assert_eq!(read_hot(&cache, &key, &opts, &version, 200), 1);
    let hits_before = cache.stats().local_hits;
    assert_eq!(read_hot(&cache, &key, &opts, &version, 100), 1);
    assert_eq!(cache.stats().local_hits - hits_before, 100);

    version.store(2, Ordering::SeqCst);
    futures_lite_block_on(cache.invalidate(&key));
    assert_eq!(read_hot(&cache, &key, &opts, &version, 100), 2);

    futures_lite_block_on(cache.set(&key, &3_u32, &opts));
    assert_eq!(read_hot(&cache, &key, &opts, &version, 100), 3);

    version.store(4, Ordering::SeqCst);
    futures_lite_block_on(cache.invalidate_tag("t"));
    assert_eq!(read_hot(&cache, &key, &opts, &version, 100), 4);
    assert_eq!(cache.stats().loads, 3);
}

#[test]
fn an_invalidation_on_another_thread_is_seen_by_the_next_read() {
    let cache = local_only();
    let version = Arc::new(AtomicU32::new(0));
    let opts = Options::new().ttl(Duration::from_secs(60));
    // One long-lived reader thread, so its front keeps what it saw between rounds.
    let (ask, asked) = std::sync::mpsc::channel::<(CacheKey, usize)>();
    let (answer, answered) = std::sync::mpsc::channel::<u32>();
    let reader = {
        let (cache, opts, version) = (cache.clone(), opts.clone(), Arc::clone(&version));
        std::thread::spawn(move || {
            for (key, n) in asked {
                answer
                    .send(read_hot(&cache, &key, &opts, &version, n))
                    .unwrap();
            }
        })
    };
    for round in 1..=50_u32 {
        let key = CacheKey::new("shared", &(round % 3));
        version.store(round, Ordering::SeqCst);
        ask.send((key.clone(), 50)).unwrap();
        answered.recv().unwrap();
        version.store(round + 1_000, Ordering::SeqCst);
        futures_lite_block_on(cache.invalidate(&key));
        ask.send((key.clone(), 1)).unwrap();
        let seen = answered.recv().unwrap();
        assert_eq!(
            seen,
            round + 1_000,
            "round {round}: a stale front entry was served"
        );
    }
    drop(ask);
    reader.join().unwrap();
}

#[test]
fn a_hot_entry_is_not_served_fresh_after_its_ttl() {
    let cache = local_only();
    let version = AtomicU32::new(1);
    let key = CacheKey::new("short", &1);
    let opts = Options::new()
        .ttl(Duration::from_millis(200))
        .stale(Duration::ZERO)
        .jitter(0.0);
    assert_eq!(read_hot(&cache, &key, &opts, &version, 100), 1);
    version.store(2, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(read_hot(&cache, &key, &opts, &version, 3), 2);
}

static CALLS: AtomicU32 = AtomicU32::new(0);

#[cached(cache = front_cache(), ttl = "1m")]
fn doubled(x: u32) -> u32 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    x * 2
}

fn front_cache() -> &'static Cache {
    static CACHE: std::sync::LazyLock<Cache> = std::sync::LazyLock::new(local_only);
    &CACHE
}

#[test]
fn the_macro_hit_path_counts_hits_and_sees_invalidation() {
    for _ in 0..500 {
        assert_eq!(doubled(21), 42);
    }
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    let stats = front_cache().stats();
    assert_eq!(stats.local_hits, 499);
    assert_eq!(stats.misses, 1);
    futures_lite_block_on(doubled_invalidate(&21));
    assert_eq!(doubled(21), 42);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
}

/// The cache's async maintenance calls complete without a runtime's I/O here.
fn futures_lite_block_on<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}
