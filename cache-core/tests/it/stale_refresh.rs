//! Stale-while-revalidate, fail-safe, timeouts and early refresh.

use crate::common;

use std::time::Duration;

use cache_core::{CacheKey, Options};
use common::{Calls, local_only, sleep_ms};

fn short_lived() -> Options {
    Options::new()
        .ttl(Duration::from_millis(40))
        .stale(Duration::from_secs(60))
        .jitter(0.0)
        .early_refresh(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_value_is_served_to_everyone_while_exactly_one_caller_refreshes() {
    let cache = local_only();
    let key = CacheKey::new("swr", &1);
    let opts = short_lived();
    let v: Result<u32, String> = cache.get_or_load(&key, &opts, || async { Ok(1) }).await;
    assert_eq!(v, Ok(1));
    sleep_ms(60).await; // now stale

    let calls = Calls::default();
    let callers: Vec<_> = (0..200)
        .map(|_| {
            let (cache, calls, key, opts) =
                (cache.clone(), calls.clone(), key.clone(), opts.clone());
            tokio::spawn(async move {
                cache
                    .get_or_load(&key, &opts, || async {
                        calls.hit();
                        sleep_ms(100).await;
                        Ok::<u32, String>(2)
                    })
                    .await
            })
        })
        .collect();
    let mut results = Vec::new();
    for c in callers {
        results.push(c.await.unwrap());
    }
    assert_eq!(calls.get(), 1, "exactly one refresh");
    assert_eq!(
        results.iter().filter(|r| **r == Ok(2)).count(),
        1,
        "the refresher gets the new value"
    );
    assert_eq!(
        results.iter().filter(|r| **r == Ok(1)).count(),
        199,
        "everyone else gets stale at once"
    );
    assert_eq!(cache.stats().stale_served, 199);
    // After the refresh the new value is fresh.
    let after: Result<u32, String> = cache.get_or_load(&key, &opts, || async { Ok(3) }).await;
    assert_eq!(after, Ok(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_loader_falls_back_to_stale_and_is_throttled() {
    let cache = local_only();
    let key = CacheKey::new("failsafe", &1);
    let opts = short_lived().fail_safe_throttle(Duration::from_secs(30));
    let _: Result<u32, String> = cache.get_or_load(&key, &opts, || async { Ok(1) }).await;
    sleep_ms(60).await;
    let calls = Calls::default();
    for _ in 0..5 {
        let got = cache
            .get_or_load(&key, &opts, || async {
                calls.hit();
                Err::<u32, String>("db down".into())
            })
            .await;
        assert_eq!(got, Ok(1), "stale value instead of the error");
    }
    assert_eq!(
        calls.get(),
        1,
        "the failing backend is not called again during the throttle"
    );
    assert_eq!(cache.stats().fail_safe, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_stale_window_an_expired_entry_is_reloaded_and_errors_propagate() {
    let cache = local_only();
    let key = CacheKey::new("nostale", &1);
    let opts = Options::new().ttl(Duration::from_millis(30)).jitter(0.0);
    let _: Result<u32, String> = cache.get_or_load(&key, &opts, || async { Ok(1) }).await;
    sleep_ms(50).await;
    let got = cache
        .get_or_load(&key, &opts, || async { Err::<u32, String>("down".into()) })
        .await;
    assert_eq!(got, Err("down".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_timeout_answers_with_stale_and_a_static_loader_still_updates_the_cache() {
    let cache = local_only();
    let key = CacheKey::new("soft", &1);
    let opts = short_lived().soft_timeout(Duration::from_millis(20));
    let _: Result<u32, String> = cache.get_or_load(&key, &opts, || async { Ok(1) }).await;
    sleep_ms(60).await;
    let started = std::time::Instant::now();
    let refresh_opts = opts.clone().ttl(Duration::from_secs(60));
    let got = cache
        .get_or_load_static(&key, &refresh_opts, || async {
            sleep_ms(150).await;
            Ok::<u32, String>(2)
        })
        .await;
    assert_eq!(got, Ok(1));
    assert!(
        started.elapsed() < Duration::from_millis(140),
        "answered before the loader finished"
    );
    sleep_ms(250).await;
    assert_eq!(
        cache.get::<u32>(&key).await,
        Some(2),
        "the background load landed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_timeout_with_a_borrowing_loader_serves_stale_and_cancels_the_load() {
    let cache = local_only();
    let key = CacheKey::new("soft-borrowed", &1);
    let opts = short_lived().soft_timeout(Duration::from_millis(20));
    let _: Result<u32, String> = cache.get_or_load(&key, &opts, || async { Ok(1) }).await;
    sleep_ms(60).await;
    let local_state = String::from("borrowed");
    let got = cache
        .get_or_load(&key, &opts, || async {
            sleep_ms(150).await;
            Ok::<u32, String>(local_state.len() as u32)
        })
        .await;
    assert_eq!(got, Ok(1));
    sleep_ms(200).await;
    assert_eq!(
        cache.get::<u32>(&key).await,
        None,
        "still stale: the cancelled load wrote nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_timeout_with_stale_serves_stale() {
    let cache = local_only();
    let key = CacheKey::new("hard", &1);
    let opts = short_lived().hard_timeout(Duration::from_millis(20));
    let _: Result<u32, String> = cache.get_or_load(&key, &opts, || async { Ok(1) }).await;
    sleep_ms(60).await;
    let got = cache
        .try_get_or_load(&key, &opts, || async {
            sleep_ms(500).await;
            Ok::<u32, String>(2)
        })
        .await;
    assert_eq!(got, Ok(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_refresh_replaces_a_slow_to_load_entry_before_it_expires() {
    let cache = local_only();
    let key = CacheKey::new("xfetch", &1);
    // A 150 ms load and a 300 ms TTL: near the end of the TTL, XFetch picks a caller.
    let opts = Options::new()
        .ttl(Duration::from_millis(300))
        .jitter(0.0)
        .early_refresh_beta(4.0);
    let calls = Calls::default();
    let load = |n: u32| {
        let calls = calls.clone();
        move || async move {
            calls.hit();
            sleep_ms(150).await;
            Ok::<u32, String>(n)
        }
    };
    assert_eq!(cache.get_or_load(&key, &opts, load(1)).await, Ok(1));
    let mut saw_refresh = false;
    for _ in 0..30 {
        sleep_ms(10).await;
        if cache.get_or_load(&key, &opts, load(2)).await == Ok(2) {
            saw_refresh = true;
            break;
        }
    }
    assert!(saw_refresh, "no early refresh within the TTL");
    assert_eq!(cache.stats().early_refreshes, 1);
    assert_eq!(
        cache.stats().misses,
        1,
        "the entry never expired into a miss"
    );
}
