//! `#[cached(adapt = f)]`: `f` turns each loaded value into an `Entry` that decides how it is
//! cached — skip it, or give it its own TTL — for `Result`, `Option` and plain functions,
//! async and sync, and together with `none_ttl`.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cache_core::{Cache, Entry, cached};

static ADAPTIVE: LazyLock<Cache> = LazyLock::new(|| Cache::builder().namespace("adapt").build());

fn loads(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

/// Partial answers (empty lists) are returned but never cached.
fn skip_empty(found: Vec<u32>) -> Entry<Vec<u32>> {
    if found.is_empty() {
        Entry::skip(found)
    } else {
        Entry::new(found)
    }
}

static SEARCHES: AtomicUsize = AtomicUsize::new(0);

#[cached(cache = ADAPTIVE, ttl = "10m", adapt = skip_empty)]
async fn search(query: &'static str) -> Result<Vec<u32>, String> {
    SEARCHES.fetch_add(1, Ordering::SeqCst);
    Ok(if query == "none" { vec![] } else { vec![1, 2] })
}

#[tokio::test]
async fn a_value_the_decider_skips_is_loaded_again_and_one_it_keeps_is_not() {
    assert_eq!(search("none").await, Ok(vec![]));
    assert_eq!(search("none").await, Ok(vec![]));
    assert_eq!(loads(&SEARCHES), 2, "the skipped empty list was not cached");
    assert_eq!(search("rust").await, Ok(vec![1, 2]));
    assert_eq!(search("rust").await, Ok(vec![1, 2]));
    assert_eq!(loads(&SEARCHES), 3, "the kept list was cached");
}

/// A token lives as long as the token says, whatever the function's `ttl`.
fn expires_with_token(token: String) -> Entry<String> {
    Entry::new(token).ttl(Duration::from_millis(100))
}

static TOKENS: AtomicUsize = AtomicUsize::new(0);

#[cached(cache = ADAPTIVE, ttl = "10m", adapt = expires_with_token)]
fn token(user: u32) -> String {
    TOKENS.fetch_add(1, Ordering::SeqCst);
    format!("token-{user}")
}

#[test]
fn a_sync_value_lives_the_ttl_its_entry_decides() {
    assert_eq!(token(1), "token-1");
    let deadline = Instant::now() + Duration::from_secs(10);
    while loads(&TOKENS) < 2 {
        assert!(Instant::now() < deadline, "the token never expired");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(token(1), "token-1");
    }
}

static PROFILES: AtomicUsize = AtomicUsize::new(0);

#[cached(
    cache = ADAPTIVE,
    ttl = "10m",
    none_ttl = "10m",
    adapt = |found: Option<String>| match found.as_deref() {
        Some("banned") => Entry::skip(found),
        _ => Entry::new(found),
    }
)]
async fn profile(id: u32) -> Option<String> {
    PROFILES.fetch_add(1, Ordering::SeqCst);
    match id {
        0 => None,
        1 => Some("banned".into()),
        _ => Some("ada".into()),
    }
}

#[tokio::test]
async fn with_none_ttl_the_decider_sees_the_option_and_none_keeps_its_ttl() {
    for _ in 0..2 {
        assert_eq!(profile(0).await, None);
    }
    assert_eq!(loads(&PROFILES), 1, "the None was cached for none_ttl");
    for _ in 0..2 {
        assert_eq!(profile(1).await.as_deref(), Some("banned"));
    }
    assert_eq!(loads(&PROFILES), 3, "the skipped Some was loaded each time");
}
