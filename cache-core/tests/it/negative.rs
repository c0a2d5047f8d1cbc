//! Negative caching: `None` from `get_or_load_option` is not cached by default, and cached for
//! `Options::none_ttl` — in every tier, invalidated like any value — when that is set.

use crate::common;

use std::time::{Duration, Instant};

use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, CacheKey, Options, request_scope};
use common::{Calls, local_only, sleep_ms, with_remote};

/// A loader that counts its calls and finds nothing.
async fn find_nothing(calls: &Calls) -> Result<Option<String>, String> {
    calls.hit();
    Ok(None)
}

/// Calls `get_or_load_option` until the loader has run `calls` times, for at most 10 s.
async fn poll_until_loaded(cache: &Cache, key: &CacheKey, opts: &Options, calls: &Calls, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls.get() < n {
        assert!(Instant::now() < deadline, "the cached None never expired");
        let got = cache
            .get_or_load_option(key, opts, || find_nothing(calls))
            .await;
        assert_eq!(got, Ok(None));
        sleep_ms(20).await;
    }
}

#[tokio::test]
async fn none_is_not_cached_by_default_and_some_is() {
    let cache = local_only();
    let (calls, key) = (Calls::default(), CacheKey::new("find", &1));
    for _ in 0..3 {
        let got = cache
            .get_or_load_option(&key, &Options::new(), || find_nothing(&calls))
            .await;
        assert_eq!(got, Ok(None));
    }
    assert_eq!(
        calls.get(),
        3,
        "every call for a missing id reaches the loader"
    );

    let found = CacheKey::new("find", &2);
    for _ in 0..3 {
        let got = cache
            .get_or_load_option(&found, &Options::new(), || async {
                calls.hit();
                Ok::<_, String>(Some("Ada".to_string()))
            })
            .await;
        assert_eq!(got, Ok(Some("Ada".to_string())));
    }
    assert_eq!(calls.get(), 4, "a found value is cached");
}

#[tokio::test]
async fn none_is_cached_for_none_ttl_then_loaded_again() {
    let cache = local_only();
    let none_ttl = Duration::from_millis(200);
    let opts = Options::new()
        .ttl(Duration::from_secs(600))
        .none_ttl(none_ttl);
    let (calls, key) = (Calls::default(), CacheKey::new("find", &1));

    let started = Instant::now();
    let first = cache
        .get_or_load_option(&key, &opts, || find_nothing(&calls))
        .await;
    let second = cache
        .get_or_load_option(&key, &opts, || find_nothing(&calls))
        .await;
    assert_eq!((first, second), (Ok(None), Ok(None)));
    // Only meaningful while the entry can still be fresh; a stalled machine skips it.
    if started.elapsed() < none_ttl {
        assert_eq!(calls.get(), 1, "the second call was served the cached None");
    }
    poll_until_loaded(&cache, &key, &opts, &calls, 2).await;
}

#[tokio::test]
async fn a_cached_none_is_dropped_by_invalidate_and_by_its_tag() {
    let cache = local_only();
    let opts = Options::new()
        .none_ttl(Duration::from_secs(60))
        .tags(["users"]);
    let (calls, key) = (Calls::default(), CacheKey::new("find", &1));
    let load = || cache.get_or_load_option(&key, &opts, || find_nothing(&calls));

    assert_eq!(load().await, Ok(None));
    assert_eq!(load().await, Ok(None));
    assert_eq!(calls.get(), 1);
    cache.invalidate(&key).await;
    assert_eq!(load().await, Ok(None));
    assert_eq!(calls.get(), 2, "invalidate dropped the cached None");
    cache.invalidate_tag("users").await;
    assert_eq!(load().await, Ok(None));
    assert_eq!(calls.get(), 3, "invalidate_tag dropped the cached None");
}

#[tokio::test]
async fn a_cached_none_reaches_other_nodes_with_the_short_ttl_and_some_keeps_the_long_one() {
    let remote = MemoryRemote::new();
    let (a, b) = (with_remote(&remote), with_remote(&remote.node()));
    let none_ttl = Duration::from_secs(30);
    let opts = Options::new()
        .ttl(Duration::from_secs(600))
        .stale(Duration::from_secs(600))
        .none_ttl(none_ttl);
    let (calls, missing) = (Calls::default(), CacheKey::new("find", &1));

    assert_eq!(
        a.get_or_load_option(&missing, &opts, || find_nothing(&calls))
            .await,
        Ok(None)
    );
    let remote_ttl = remote
        .ttl_of(&a.remote_key(&missing))
        .expect("the None is in the remote tier");
    assert!(remote_ttl <= none_ttl, "{remote_ttl:?} outlives none_ttl");
    assert_eq!(
        b.get_or_load_option(&missing, &opts, || find_nothing(&calls))
            .await,
        Ok(None)
    );
    assert_eq!(
        calls.get(),
        1,
        "node b was served a's cached None from the remote tier"
    );

    let found = CacheKey::new("find", &2);
    let some = || async { Ok::<_, String>(Some("Ada".to_string())) };
    assert_eq!(
        a.get_or_load_option(&found, &opts, some).await,
        Ok(Some("Ada".into()))
    );
    let remote_ttl = remote
        .ttl_of(&a.remote_key(&found))
        .expect("the value is remote");
    assert!(
        remote_ttl > none_ttl,
        "a found value keeps its own ttl + stale window"
    );

    b.invalidate(&missing).await;
    assert!(
        remote.ttl_of(&a.remote_key(&missing)).is_none(),
        "the remote None is gone"
    );
    assert_eq!(
        a.get_or_load_option(&missing, &opts, || find_nothing(&calls))
            .await,
        Ok(None)
    );
    assert_eq!(
        calls.get(),
        2,
        "node a dropped its copy when b invalidated it"
    );
}

#[tokio::test]
async fn errors_are_never_cached_with_none_ttl() {
    let cache = local_only();
    let opts = Options::new().none_ttl(Duration::from_secs(60));
    let (calls, key) = (Calls::default(), CacheKey::new("find", &1));
    for _ in 0..2 {
        let failing = || async {
            calls.hit();
            Err::<Option<u8>, String>("down".into())
        };
        assert_eq!(
            cache.get_or_load_option(&key, &opts, failing).await,
            Err("down".into())
        );
    }
    assert_eq!(calls.get(), 2);
}

#[test]
fn the_sync_path_caches_none_in_the_request_and_local_tiers() {
    let cache = local_only();
    let opts = Options::new().none_ttl(Duration::from_secs(60));
    let (calls, key) = (Calls::default(), CacheKey::new("find", &1));
    let find = || {
        calls.hit();
        Ok::<Option<u8>, ()>(None)
    };
    assert_eq!(cache.get_or_load_option_sync(&key, &opts, find), Ok(None));
    assert_eq!(cache.get_or_load_option_sync(&key, &opts, find), Ok(None));
    assert_eq!(calls.get(), 1);
    // Default options: not cached.
    let other = CacheKey::new("find", &2);
    assert_eq!(
        cache.get_or_load_option_sync(&other, &Options::new(), find),
        Ok(None)
    );
    assert_eq!(
        cache.get_or_load_option_sync(&other, &Options::new(), find),
        Ok(None)
    );
    assert_eq!(calls.get(), 3);
}

#[tokio::test]
async fn a_cached_none_is_served_by_the_request_tier_within_a_scope() {
    let cache = local_only();
    let opts = Options::new()
        .none_ttl(Duration::from_secs(60))
        .tiers(cache_core::Tiers::REQUEST);
    let (calls, key) = (Calls::default(), CacheKey::new("find", &1));
    request_scope(async {
        for _ in 0..3 {
            let got = cache
                .get_or_load_option(&key, &opts, || find_nothing(&calls))
                .await;
            assert_eq!(got, Ok(None));
        }
    })
    .await;
    assert_eq!(calls.get(), 1);
    assert_eq!(cache.stats().request_hits, 2);
}
