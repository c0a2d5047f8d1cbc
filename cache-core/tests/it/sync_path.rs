//! The synchronous entry point shares the engine with the async one and needs no runtime.

use crate::common;

use std::sync::Barrier;
use std::time::Duration;

use cache_core::{CacheKey, Options, request_scope};
use common::{Calls, local_only, sleep_ms};

#[test]
fn sync_callers_on_plain_threads_share_one_load() {
    let cache = local_only();
    let calls = Calls::default();
    let key = CacheKey::new("sync-cold", &1);
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    cache.get_or_load_sync(&key, &Options::new(), || {
                        calls.hit();
                        std::thread::sleep(Duration::from_millis(100));
                        Ok::<_, String>(vec![7_u8])
                    })
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), Ok(vec![7]));
        }
    });
    assert_eq!(calls.get(), 1);
    assert_eq!(cache.stats().coalesced + cache.stats().local_hits, 7);
}

#[test]
fn a_panicking_sync_leader_hands_over_to_a_waiting_thread() {
    let cache = local_only();
    let key = CacheKey::new("sync-panic", &1);
    let calls = Calls::default();
    std::thread::scope(|s| {
        let leader = s.spawn(|| {
            cache.get_or_load_sync(&key, &Options::new(), || -> Result<u8, String> {
                calls.hit();
                std::thread::sleep(Duration::from_millis(100));
                panic!("loader bug");
            })
        });
        std::thread::sleep(Duration::from_millis(30));
        let waiter = s.spawn(|| {
            cache.get_or_load_sync(&key, &Options::new(), || {
                calls.hit();
                Ok::<u8, String>(2)
            })
        });
        assert!(
            leader.join().is_err(),
            "the leader's panic propagates to its own caller"
        );
        assert_eq!(waiter.join().unwrap(), Ok(2));
    });
    assert_eq!(calls.get(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn a_sync_caller_inside_a_single_threaded_runtime_never_blocks_on_an_async_leader() {
    let cache = local_only();
    let key = CacheKey::new("mixed", &1);
    let leader = {
        let (cache, key) = (cache.clone(), key.clone());
        tokio::spawn(async move {
            cache
                .get_or_load(&key, &Options::new(), || async {
                    sleep_ms(100).await;
                    Ok::<u8, String>(1)
                })
                .await
        })
    };
    tokio::task::yield_now().await; // the leader starts and parks in its loader
    assert_eq!(cache.loads_in_flight(), 1);
    // Blocking here would deadlock the only thread; the sync caller loads on its own instead.
    let got = tokio::time::timeout(Duration::from_secs(2), async {
        cache.get_or_load_sync(&key, &Options::new(), || Ok::<u8, String>(2))
    })
    .await
    .expect("no deadlock");
    assert_eq!(got, Ok(2));
    assert_eq!(leader.await.unwrap(), Ok(1));
}

#[tokio::test]
async fn sync_and_async_callers_share_the_local_and_request_tiers() {
    let cache = local_only();
    let key = CacheKey::new("shared-tiers", &1);
    let _: Result<u8, ()> = cache
        .get_or_load(&key, &Options::new(), || async { Ok(5) })
        .await;
    assert_eq!(
        cache.get_or_load_sync(&key, &Options::new(), || Ok::<u8, ()>(6)),
        Ok(5)
    );

    let other = CacheKey::new("shared-tiers", &2);
    request_scope(async {
        assert_eq!(
            cache.get_or_load_sync(&other, &Options::new(), || Ok::<u8, ()>(7)),
            Ok(7)
        );
        cache.local().unwrap().run_pending_tasks();
        let again: Result<u8, ()> = cache
            .get_or_load(&other, &Options::new(), || async { Ok(8) })
            .await;
        assert_eq!(again, Ok(7));
    })
    .await;
    assert_eq!(cache.stats().request_hits, 1);
}

#[test]
fn sync_stale_entries_are_refreshed_by_one_caller_with_fail_safe() {
    let cache = local_only();
    let key = CacheKey::new("sync-stale", &1);
    let opts = Options::new()
        .ttl(Duration::from_millis(20))
        .stale(Duration::from_secs(60))
        .jitter(0.0)
        .early_refresh(false);
    assert_eq!(
        cache.get_or_load_sync(&key, &opts, || Ok::<u8, String>(1)),
        Ok(1)
    );
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(
        cache.get_or_load_sync(&key, &opts, || Err::<u8, String>("down".into())),
        Ok(1)
    );
    assert_eq!(cache.stats().fail_safe, 1);
}
