//! One load per key per process, whatever the concurrency, and no caller left behind.

use crate::common;

use std::time::Duration;

use cache_core::{CacheKey, Options};
use common::{Calls, local_only, sleep_ms};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_cold_callers_cause_exactly_one_load_and_share_its_value() {
    let cache = local_only();
    let (calls, started) = (Calls::default(), Calls::default());
    let key = CacheKey::new("cold", &1);
    let mut tasks = Vec::new();
    for _ in 0..10_000 {
        let (cache, calls, key, started) =
            (cache.clone(), calls.clone(), key.clone(), started.clone());
        tasks.push(tokio::spawn(async move {
            started.hit();
            cache
                .get_or_load(&key, &Options::new(), || async {
                    calls.hit();
                    started.reach(10_000).await;
                    sleep_ms(20).await;
                    Ok::<_, String>(vec![1_u32, 2, 3])
                })
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(vec![1, 2, 3]));
    }
    assert_eq!(calls.get(), 1);
    let stats = cache.stats();
    assert_eq!(stats.loads, 1);
    assert_eq!(stats.coalesced + stats.local_hits, 9_999);
    assert_eq!(cache.loads_in_flight(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_receive_the_leaders_error_and_the_error_is_not_cached() {
    let cache = local_only();
    let (calls, started) = (Calls::default(), Calls::default());
    let key = CacheKey::new("failing", &1);
    let mut tasks = Vec::new();
    for _ in 0..1_000 {
        let (cache, calls, key, started) =
            (cache.clone(), calls.clone(), key.clone(), started.clone());
        tasks.push(tokio::spawn(async move {
            started.hit();
            cache
                .get_or_load(&key, &Options::new(), || async {
                    let n = calls.hit();
                    started.reach(1_000).await;
                    sleep_ms(20).await;
                    Err::<u32, String>(format!("db down #{n}"))
                })
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err("db down #1".to_string()));
    }
    assert_eq!(calls.get(), 1);
    // Not cached: the next call loads again and can succeed.
    let next = cache
        .get_or_load(&key, &Options::new(), || async {
            calls.hit();
            Ok::<u32, String>(5)
        })
        .await;
    assert_eq!(next, Ok(5));
    assert_eq!(calls.get(), 2);
    assert_eq!(cache.stats().load_errors, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_leader_hands_the_load_over_to_a_waiter() {
    let cache = local_only();
    let calls = Calls::default();
    let key = CacheKey::new("handover", &1);

    let leader = {
        let (cache, calls, key) = (cache.clone(), calls.clone(), key.clone());
        tokio::spawn(async move {
            cache
                .get_or_load(&key, &Options::new(), || async {
                    calls.hit();
                    sleep_ms(10_000).await; // never finishes: the client hangs up first
                    Ok::<_, String>("from leader".to_string())
                })
                .await
        })
    };
    sleep_ms(50).await;
    assert_eq!(calls.get(), 1);
    let waiters: Vec<_> = (0..50)
        .map(|_| {
            let (cache, calls, key) = (cache.clone(), calls.clone(), key.clone());
            tokio::spawn(async move {
                cache
                    .get_or_load(&key, &Options::new(), || async {
                        calls.hit();
                        sleep_ms(20).await;
                        Ok::<_, String>("from waiter".to_string())
                    })
                    .await
            })
        })
        .collect();
    sleep_ms(50).await;
    leader.abort();
    let results = tokio::time::timeout(Duration::from_secs(5), async {
        let mut out = Vec::new();
        for w in waiters {
            out.push(w.await.unwrap());
        }
        out
    })
    .await
    .expect("waiters must not wait forever after the leader is cancelled");
    assert!(results.iter().all(|r| r.as_deref() == Ok("from waiter")));
    // The leader's load plus exactly one take-over.
    assert_eq!(calls.get(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_keys_load_independently() {
    let cache = local_only();
    let calls = Calls::default();
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (cache, calls) = (cache.clone(), calls.clone());
            tokio::spawn(async move {
                let key = CacheKey::new("many", &(i % 10));
                cache
                    .get_or_load(&key, &Options::new(), || async {
                        calls.hit();
                        sleep_ms(20).await;
                        Ok::<_, String>(i % 10)
                    })
                    .await
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), Ok(i % 10));
    }
    assert_eq!(calls.get(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_timeout_without_stale_is_a_timeout_error_for_try_get_or_load() {
    let cache = local_only();
    let key = CacheKey::new("slow", &1);
    let opts = Options::new().hard_timeout(Duration::from_millis(30));
    let started = std::time::Instant::now();
    let got = cache
        .try_get_or_load(&key, &opts, || async {
            sleep_ms(5_000).await;
            Ok::<u8, String>(1)
        })
        .await;
    assert_eq!(
        got,
        Err(cache_core::LoadError::Timeout(Duration::from_millis(30)))
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // get_or_load cannot return a timeout in the caller's error type: it waits for the loader.
    let waited = cache
        .get_or_load(&key, &opts, || async {
            sleep_ms(60).await;
            Ok::<u8, String>(2)
        })
        .await;
    assert_eq!(waited, Ok(2));
}

/// A flight detached by an invalidation, and one replaced by a newer flight, still owe their
/// waiters an outcome; callers arriving after the invalidation start a load of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_on_an_invalidated_key_get_the_load_they_joined_and_later_callers_load_anew() {
    let cache = local_only();
    let calls = Calls::default();
    let key = CacheKey::new("detached", &1);
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let call = |label: &'static str, gated: bool| {
        let (cache, calls, key, gate) = (cache.clone(), calls.clone(), key.clone(), gate.clone());
        tokio::spawn(async move {
            cache
                .get_or_load(&key, &Options::new(), || async move {
                    calls.hit();
                    if gated {
                        gate.notified().await;
                    }
                    Ok::<_, String>(label.to_string())
                })
                .await
        })
    };
    let leader = call("before", true);
    while calls.get() == 0 {
        sleep_ms(1).await;
    }
    let waiters: Vec<_> = (0..20).map(|_| call("never loaded", false)).collect();
    sleep_ms(50).await;
    assert_eq!(calls.get(), 1, "the waiters joined the leader's flight");
    cache.invalidate(&key).await;
    // A caller after the invalidation must not share the older load.
    let after = call("after", false);
    assert_eq!(after.await.unwrap().as_deref(), Ok("after"));
    assert_eq!(calls.get(), 2);
    gate.notify_one();
    assert_eq!(leader.await.unwrap().as_deref(), Ok("before"));
    for waiter in waiters {
        let got = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("a waiter of a detached flight is still answered");
        assert_eq!(got.unwrap().as_deref(), Ok("before"));
    }
    assert_eq!(calls.get(), 2);
    assert_eq!(cache.loads_in_flight(), 0);
}

/// Remote reads come before the flight (a hit joins none), so the one-load promise rests on
/// a miss joining it: many concurrent cold callers of a remote-only cache, in waves, with the
/// remote tier failing now and then, still load each key once per wave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_callers_of_a_remote_tier_load_once_and_hits_join_no_flight() {
    let remote = cache_core::tier::memory::MemoryRemote::new();
    let cache = common::remote_only(&remote);
    for wave in 0..20_u32 {
        let key = CacheKey::new("remote_cold", &wave);
        let calls = Calls::default();
        let started = Calls::default();
        // Every fifth wave starts while the remote tier is down: the loader still runs once.
        remote.set_failing(wave % 5 == 4);
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let (cache, key, calls, started) =
                    (cache.clone(), key.clone(), calls.clone(), started.clone());
                tokio::spawn(async move {
                    started.hit();
                    cache
                        .get_or_load(&key, &Options::new(), || async {
                            calls.hit();
                            started.reach(200).await;
                            sleep_ms(5).await;
                            Ok::<_, String>(wave)
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(wave));
        }
        assert_eq!(calls.get(), 1, "wave {wave}: one load for 200 cold callers");
        remote.set_failing(false);
        if wave % 5 != 4 {
            // Now in the remote tier: hits, no load and no flight left behind.
            let again: Result<u32, String> = cache
                .get_or_load(&key, &Options::new(), || async { Err("reloaded".into()) })
                .await;
            assert_eq!(again, Ok(wave));
        }
        assert_eq!(cache.loads_in_flight(), 0);
    }
}
