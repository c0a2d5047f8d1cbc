//! `#[cached(none_ttl = ..)]`: a `None` ("not found") is cached for that long, on `Option<T>` and
//! `Result<Option<T>, E>` functions, async and sync; without it `None` is not cached.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cache_core::{Cache, cached};

static NEGATIVE: LazyLock<Cache> = LazyLock::new(|| Cache::builder().namespace("neg").build());

fn loads(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

static FINDS: AtomicUsize = AtomicUsize::new(0);

/// Finds even ids only.
#[cached(cache = NEGATIVE, ttl = "10m", none_ttl = "200ms")]
async fn find_even(id: u32) -> Option<String> {
    FINDS.fetch_add(1, Ordering::SeqCst);
    id.is_multiple_of(2).then(|| format!("user {id}"))
}

#[tokio::test]
async fn a_none_is_cached_for_none_ttl_and_a_some_for_ttl() {
    let started = Instant::now();
    assert_eq!(find_even(1).await, None);
    assert_eq!(find_even(1).await, None);
    // Only meaningful while the None can still be fresh; a stalled machine skips it.
    if started.elapsed() < Duration::from_millis(200) {
        assert_eq!(
            loads(&FINDS),
            1,
            "the second call was served the cached None"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let before = loads(&FINDS);
    while loads(&FINDS) == before {
        assert!(Instant::now() < deadline, "the cached None never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(find_even(1).await, None);
    }
    let now = loads(&FINDS);
    assert_eq!(find_even(2).await.as_deref(), Some("user 2"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(find_even(2).await.as_deref(), Some("user 2"));
    assert_eq!(loads(&FINDS), now + 1, "a found value keeps the full ttl");
}

static LOOKUPS: AtomicUsize = AtomicUsize::new(0);

#[cached(cache = NEGATIVE, none_ttl = Duration::from_secs(60))]
async fn lookup(id: u32) -> Result<Option<u32>, String> {
    LOOKUPS.fetch_add(1, Ordering::SeqCst);
    match id {
        0 => Err("bad id".into()),
        _ => Ok(None),
    }
}

#[tokio::test]
async fn result_option_caches_ok_none_and_never_an_error_and_invalidate_drops_it() {
    assert_eq!(lookup(7).await, Ok(None));
    assert_eq!(lookup(7).await, Ok(None));
    assert_eq!(loads(&LOOKUPS), 1);
    lookup_invalidate(&7).await;
    assert_eq!(lookup(7).await, Ok(None));
    assert_eq!(loads(&LOOKUPS), 2, "invalidate dropped the cached None");
    assert_eq!(lookup(0).await, Err("bad id".into()));
    assert_eq!(lookup(0).await, Err("bad id".into()));
    assert_eq!(loads(&LOOKUPS), 4);
}

static SYNC_FINDS: AtomicUsize = AtomicUsize::new(0);

#[cached(cache = NEGATIVE, none_ttl = "1m")]
fn find_sync(id: u32) -> Option<u32> {
    SYNC_FINDS.fetch_add(1, Ordering::SeqCst);
    (id > 100).then_some(id)
}

static DEFAULT_FINDS: AtomicUsize = AtomicUsize::new(0);

#[cached(cache = NEGATIVE)]
fn find_default(id: u32) -> Option<u32> {
    DEFAULT_FINDS.fetch_add(1, Ordering::SeqCst);
    (id > 100).then_some(id)
}

#[test]
fn sync_functions_cache_none_only_with_none_ttl() {
    assert_eq!(find_sync(1), None);
    assert_eq!(find_sync(1), None);
    assert_eq!(loads(&SYNC_FINDS), 1);
    assert_eq!(find_default(1), None);
    assert_eq!(find_default(1), None);
    assert_eq!(
        loads(&DEFAULT_FINDS),
        2,
        "without none_ttl a None is not cached"
    );
    assert_eq!(find_default(101), Some(101));
    assert_eq!(find_default(101), Some(101));
    assert_eq!(loads(&DEFAULT_FINDS), 3);
}
