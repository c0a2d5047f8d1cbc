//! Bad bytes under a cached key in Redis: garbage, truncated envelopes, an older schema, a
//! wrong format byte, unknown flags, a truncated zstd frame. Each call returns the loader's
//! value, counts a corrupt entry and an error, and the bad entry leaves Redis. (The zstd bomb
//! is in `bad_bytes_bomb.rs`.) Both hold the `serial` binary's `SERIAL` lock, so no other
//! test moves the peak RSS they measure.

use crate::{SERIAL, common};

use std::time::Duration;

use cache_core::codec::HEADER_LEN;
use cache_core::{CacheKey, Codec, EntryMeta, Options};
use cache_redis::test_support::RedisServer;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    id: u64,
    email: String,
    age: u32,
}

/// What an older release stored under the same key.
#[derive(Serialize)]
struct OldUser {
    id: u64,
    name: String,
}

fn meta() -> EntryMeta {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    EntryMeta {
        fresh_until_ms: now + 600_000,
        stale_until_ms: now + 900_000,
        load_micros: 10,
    }
}

/// `(name, bytes)` of every bad entry.
fn bad_entries() -> Vec<(&'static str, Vec<u8>)> {
    let codec = Codec::default();
    let user = User {
        id: 1,
        email: "a@b.c".into(),
        age: 30,
    };
    let good = codec.encode(&user, meta()).unwrap();
    let mut wrong_format = good.clone();
    wrong_format[0] = 0xC2;
    let mut unknown_flags = good.clone();
    unknown_flags[1] = 0x80;
    let big = User {
        email: "x".repeat(8 << 10),
        ..user.clone()
    };
    let compressed = codec.encode(&big, meta()).unwrap();
    assert!(Codec::is_compressed(&compressed));
    let old = OldUser {
        id: 1,
        name: "Ada".into(),
    };
    vec![
        (
            "garbage",
            b"\x00\xffnot an envelope at all \x13\x37".repeat(20),
        ),
        ("empty", Vec::new()),
        ("truncated header", good[..HEADER_LEN - 4].to_vec()),
        ("truncated payload", good[..good.len() - 3].to_vec()),
        ("older schema", codec.encode(&old, meta()).unwrap()),
        ("wrong format byte", wrong_format),
        ("unknown flags", unknown_flags),
        (
            "truncated zstd frame",
            compressed[..compressed.len() / 2].to_vec(),
        ),
    ]
}

#[tokio::test]
async fn bad_entries_are_misses_counted_and_removed() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let tier = common::tier(&server.url()).await;
    let cache = common::remote_only(&tier);
    let mut conn = common::raw(&server.url()).await;
    let opts = Options::new().ttl(Duration::from_secs(600));
    let fresh = User {
        id: 7,
        email: "fresh@example.com".into(),
        age: 41,
    };
    // A test that ran earlier in this process may have left the peak above the current RSS:
    // reset it to the current RSS first (Linux `clear_refs` 5), as a process of its own would
    // start.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (_, peak_before) = common::rss();
    for (i, (case, bytes)) in bad_entries().into_iter().enumerate() {
        let key = CacheKey::new("users", &(i as u64));
        let remote = cache.remote_key(&key);

        // get_or_load: the loader's value, and Redis now holds it instead of the bad bytes.
        let _: () = conn.set(&remote, &bytes).await.unwrap();
        let before = cache.stats();
        let got: Result<User, ()> = cache
            .get_or_load(&key, &opts, || async { Ok(fresh.clone()) })
            .await;
        assert_eq!(got.as_ref(), Ok(&fresh), "{case}");
        let after = cache.stats();
        assert_eq!(after.corrupt_entries, before.corrupt_entries + 1, "{case}");
        assert_eq!(after.errors, before.errors + 1, "{case}");
        assert_eq!(after.loads, before.loads + 1, "{case}");
        let stored: Vec<u8> = conn.get(&remote).await.unwrap();
        let stored = cache_redis::fenced::envelope(stored).expect("an entry, not a lease");
        let (_, back): (EntryMeta, User) = Codec::default().decode(&stored).unwrap();
        assert_eq!(back, fresh, "{case}: the bad entry was replaced");

        // get: a miss, and the bad entry is deleted.
        let _: () = conn.set(&remote, &bytes).await.unwrap();
        assert_eq!(cache.get::<User>(&key).await, None, "{case}");
        assert_eq!(cache.stats().corrupt_entries, after.corrupt_entries + 1);
        let exists: bool = conn.exists(&remote).await.unwrap();
        assert!(!exists, "{case}: the bad entry was removed");
    }
    let (_, peak_after) = common::rss();
    let growth_kib = peak_after.saturating_sub(peak_before);
    println!("peak RSS growth over all bad entries: {growth_kib} KiB");
    assert!(growth_kib < 64 << 10, "peak RSS grew {growth_kib} KiB");
}
