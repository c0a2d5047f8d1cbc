//! Memory per entry in the local tier against raw moka (issue 17, L4 and L5): the resident set
//! grown by N distinct entries, divided by N. Each side runs in a process of its own, so one
//! side's freed memory cannot be reused by the other's.
//!
//! ```sh
//! cargo run --release -p benches --example entry_memory            # both sizes, both sides
//! cargo run --release -p benches --example entry_memory -- ours small 1000000   # one side
//! ```
//!
//! `ours` stores through `Cache::set` into a local tier (moka, no remote tier, a budget large
//! enough that nothing is evicted); `moka` is a `moka::sync::Cache<String, Arc<V>>` holding the
//! same key text and a clone of the same value. Keys are about 30 bytes
//! (`user_profile_cache:<10 digits>`); values are `benches::Small` (two short strings) or
//! `benches::Big` (about 2 KiB).

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use benches::{big, small};
use cache_core::tier::local::LocalTier;
use cache_core::{Cache, CacheKey, Options, Tiers};

const SMALL_ENTRIES: u64 = 1_000_000;
const BIG_ENTRIES: u64 = 200_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [side, size, n] => {
            let n: u64 = n.parse().expect("a count");
            let bytes = match (side.as_str(), size.as_str()) {
                ("ours", "small") => ours(n, small),
                ("ours", "big") => ours(n, big),
                ("moka", "small") => raw_moka(n, small),
                ("moka", "big") => raw_moka(n, big),
                _ => panic!("usage: entry_memory [ours|moka small|big N]"),
            };
            println!("{bytes}");
        }
        [] => {
            for (size, n) in [("small", SMALL_ENTRIES), ("big", BIG_ENTRIES)] {
                let ours = in_child("ours", size, n);
                let moka = in_child("moka", size, n);
                println!(
                    "FIGURE entry_memory {size}: ours {:.0} B/entry / raw moka {:.0} B/entry = {:.3}x ({n} entries)",
                    ours,
                    moka,
                    ours / moka
                );
            }
        }
        _ => panic!("usage: entry_memory [ours|moka small|big N]"),
    }
}

/// Bytes per entry that `side` reported from a process of its own.
fn in_child(side: &str, size: &str, n: u64) -> f64 {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe)
        .args([side, size, &n.to_string()])
        .output()
        .expect("running a side");
    assert!(out.status.success(), "{side} {size} failed");
    let grown: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a byte count");
    grown / n as f64
}

/// The key text both sides store: about 30 bytes.
fn key_text(i: u64) -> String {
    format!("user_profile_cache:{i:010}")
}

/// Resident bytes of this process now.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// Resident bytes grown by `n` entries stored through the cache's local tier.
fn ours<V: cache_core::Cacheable>(n: u64, value: fn() -> V) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let local = LocalTier::new(1 << 40);
        let cache = Cache::builder().local(local).build();
        let opts = Options::new()
            .ttl(Duration::from_secs(3600))
            .tiers(Tiers::LOCAL);
        let before = resident_bytes();
        for i in 0..n {
            let key = CacheKey::new("user_profile_cache", &format!("{i:010}"));
            cache.set(&key, &value(), &opts).await;
        }
        if let Some(local) = cache.local() {
            local.run_pending_tasks();
            assert_eq!(local.entry_count(), n, "every entry kept");
        }
        resident_bytes().saturating_sub(before)
    })
}

/// Resident bytes grown by `n` entries in a raw moka cache of `Arc<V>`.
fn raw_moka<V: Clone + Send + Sync + 'static>(n: u64, value: fn() -> V) -> u64 {
    let cache: moka::sync::Cache<String, Arc<V>> =
        moka::sync::Cache::builder().max_capacity(u64::MAX).build();
    let before = resident_bytes();
    for i in 0..n {
        cache.insert(key_text(i), Arc::new(value()));
    }
    cache.run_pending_tasks();
    assert_eq!(cache.entry_count(), n, "every entry kept");
    resident_bytes().saturating_sub(before)
}
