//! The local tier's byte budget bounds the memory its values really occupy, even when they
//! compress 200:1 in the envelope and even when threads' fronts have seen them.
//!
//! In the `serial` binary, holding its `SERIAL` lock, so no other test's allocations move the
//! RSS it reads.

use std::time::Duration;

use cache_core::{Cache, CacheKey, LocalTier, Options};

use crate::SERIAL;

const BUDGET: u64 = 4 << 20;
const KEYS: usize = 2_000;
const TASKS: usize = 2;
/// Lines of [`LINE`] bytes per value: 256 KiB of text, about 1 KiB once compressed.
const LINES: usize = 256;
const LINE: usize = 1024;

/// Resident set size in bytes, from `/proc/self/statm` (its second field, in pages).
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// A value of 256 KiB of text that differs per key and compresses extremely well.
fn value(key: usize) -> Vec<String> {
    let line = format!("{key:08} ").repeat(LINE / 9);
    vec![format!("{line:<LINE$}"); LINES]
}

/// Loads every key of `keys` three times in a row: the first call loads, the next two are
/// moka hits, which is what admits an entry to the thread's front.
async fn load_all(cache: Cache, keys: impl Iterator<Item = usize>) {
    let opts = Options::new().ttl(Duration::from_secs(600));
    for i in keys {
        let key = CacheKey::new("big", &i);
        for _ in 0..3 {
            let v: Vec<String> = cache
                .get_or_load(&key, &opts, || async move { Ok::<_, ()>(value(i)) })
                .await
                .unwrap();
            assert_eq!(v.len(), LINES);
        }
    }
}

#[test]
fn rss_stays_within_a_small_multiple_of_the_budget() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(TASKS)
        .enable_all()
        .build()
        .unwrap();
    let cache = Cache::builder()
        .namespace("t")
        .local(LocalTier::new(BUDGET))
        .build();
    // Warm up outside the measurement: worker threads, zstd contexts, scratch buffers.
    runtime.block_on(load_all(cache.clone(), 0..8));
    let local = cache.local().unwrap();
    local.run_pending_tasks();
    let before = rss_bytes();

    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| tokio::spawn(load_all(cache.clone(), (t..KEYS).step_by(TASKS))))
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    local.run_pending_tasks();
    let growth = rss_bytes().saturating_sub(before);

    let loaded = (KEYS * LINES * LINE) as u64;
    eprintln!(
        "loaded {} MiB; rss grew {:.1} MiB; {} entries weigh {} KiB (budget {} KiB)",
        loaded >> 20,
        growth as f64 / f64::from(1 << 20),
        local.entry_count(),
        local.weighted_bytes() >> 10,
        BUDGET >> 10,
    );
    assert!(local.weighted_bytes() <= BUDGET);
    // The allowance covers moka's write log (up to 64 inserts between two maintenance runs,
    // 17 MiB of these values), allocator slack and the runtime.
    let allowance = 24 << 20;
    assert!(
        growth <= BUDGET * 4 + allowance,
        "rss grew {growth} bytes for a {BUDGET}-byte budget"
    );
}
