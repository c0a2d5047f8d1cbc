//! Request scope, local byte bound, and read-through with backfill across tiers.

use crate::common;

use std::time::Duration;

use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, CacheKey, LocalTier, Options, Tiers, request_scope};
use common::{Calls, local_only, remote_only, sleep_ms, with_remote};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_request_scopes_never_see_each_others_values() {
    // Request tier only: whatever a scope reads must have been written in that scope.
    let cache = Cache::builder().without_local().build();
    let opts = Options::new().tiers(Tiers::REQUEST);
    let key = CacheKey::new("me", &());
    let tasks: Vec<_> = (0..1_000_u32)
        .map(|user| {
            let (cache, opts, key) = (cache.clone(), opts.clone(), key.clone());
            tokio::spawn(request_scope(async move {
                let first: Result<u32, String> =
                    cache.get_or_load(&key, &opts, || async { Ok(user) }).await;
                tokio::task::yield_now().await;
                sleep_ms(u64::from(user % 7)).await;
                // Same scope: served by the request tier, still this user's value.
                let again: Result<u32, String> = cache
                    .get_or_load(&key, &opts, || async { Ok(u32::MAX) })
                    .await;
                (user, first, again)
            }))
        })
        .collect();
    for t in tasks {
        let (user, first, again) = t.await.unwrap();
        assert_eq!(first, Ok(user));
        assert_eq!(again, Ok(user));
    }
    let stats = cache.stats();
    assert_eq!(stats.request_hits, 1_000);
    assert_eq!(stats.loads, 1_000);
    // Outside any scope the request tier is skipped.
    let outside: Result<u32, String> = cache.get_or_load(&key, &opts, || async { Ok(7) }).await;
    assert_eq!(outside, Ok(7));
}

#[tokio::test]
async fn request_tier_answers_repeated_calls_within_one_scope() {
    let cache = local_only();
    let key = CacheKey::new("repeat", &1);
    request_scope(async {
        let _: Result<u8, ()> = cache
            .get_or_load(&key, &Options::new(), || async { Ok(1) })
            .await;
        for _ in 0..3 {
            let _: Result<u8, ()> = cache
                .get_or_load(&key, &Options::new(), || async { Ok(2) })
                .await;
        }
    })
    .await;
    let stats = cache.stats();
    assert_eq!(
        (stats.loads, stats.request_hits, stats.local_hits),
        (1, 3, 0)
    );
}

#[tokio::test]
async fn local_tier_stays_within_its_byte_budget() {
    let budget = 256 * 1024;
    let cache = Cache::builder()
        .local(LocalTier::new(budget))
        .codec(cache_core::CodecConfig::default().compress_threshold(usize::MAX))
        .build();
    let opts = Options::new().ttl(Duration::from_secs(600));
    // 1,000 entries of ~5 KiB each (a u32 above 2^16 is 5 bytes of MessagePack): ~5 MiB
    // offered to a 256 KiB tier.
    for i in 0..1_000_u32 {
        let value = vec![u32::MAX - i; 1_000];
        cache.set(&CacheKey::new("big", &i), &value, &opts).await;
    }
    let local = cache.local().unwrap();
    local.run_pending_tasks();
    assert!(
        local.weighted_bytes() <= budget,
        "{} > {budget}",
        local.weighted_bytes()
    );
    assert!(
        local.entry_count() > 10 && local.entry_count() < 100,
        "{}",
        local.entry_count()
    );
}

#[tokio::test]
async fn a_compressed_entry_weighs_at_least_its_uncompressed_length() {
    // 100 KiB of MessagePack that zstd squeezes to well under 1 KiB.
    let value = vec!["the same line, over and over".to_owned(); 3_500];
    let uncompressed: u64 = 3 + 3_500 * 29;
    let remote = MemoryRemote::new();
    let writer = with_remote(&remote);
    let reader = with_remote(&remote.node());
    let key = CacheKey::new("squeezed", &1);
    writer.set(&key, &value, &Options::new()).await;
    let stored = remote.raw(&writer.remote_key(&key)).unwrap();
    assert!(
        stored.len() as u64 * 50 < uncompressed,
        "{} bytes",
        stored.len()
    );
    // Written here (weighed when encoding) and read back from the remote tier there (weighed
    // when decoding).
    assert_eq!(reader.get::<Vec<String>>(&key).await, Some(value));
    for cache in [&writer, &reader] {
        let local = cache.local().unwrap();
        local.run_pending_tasks();
        assert_eq!(local.entry_count(), 1);
        assert!(
            local.weighted_bytes() >= uncompressed,
            "{}",
            local.weighted_bytes()
        );
    }
}

#[tokio::test]
async fn a_remote_hit_backfills_the_local_and_request_tiers() {
    let remote = MemoryRemote::new();
    let writer = with_remote(&remote);
    let reader = with_remote(&remote.node());
    let key = CacheKey::new("shared", &9);
    let opts = Options::new().ttl(Duration::from_secs(60));
    let _: Result<String, ()> = writer
        .get_or_load(&key, &opts, || async { Ok("from node 1".to_string()) })
        .await;
    assert_eq!(remote.keys(), vec![format!("t:{}", key.as_str())]);

    let calls = Calls::default();
    request_scope(async {
        for _ in 0..3 {
            let got: Result<String, ()> = reader
                .get_or_load(&key, &opts, || async {
                    calls.hit();
                    Ok("loaded".to_string())
                })
                .await;
            assert_eq!(got.as_deref(), Ok("from node 1"));
        }
    })
    .await;
    let _: Result<String, ()> = reader
        .get_or_load(&key, &opts, || async { Ok(String::new()) })
        .await;
    assert_eq!(calls.get(), 0);
    let stats = reader.stats();
    assert_eq!(
        (stats.remote_hits, stats.request_hits, stats.local_hits),
        (1, 2, 1)
    );
}

#[tokio::test]
async fn every_remote_key_gets_a_ttl_equal_to_the_end_of_the_stale_window() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let opts = Options::new()
        .ttl(Duration::from_secs(10))
        .stale(Duration::from_secs(50))
        .jitter(0.0);
    cache.set(&CacheKey::new("ttl", &1), &1_u8, &opts).await;
    let ttl = remote.ttl_of(&remote.keys()[0]).expect("key has a TTL");
    assert!(
        ttl > Duration::from_secs(58) && ttl <= Duration::from_secs(60),
        "{ttl:?}"
    );
}

#[tokio::test]
async fn a_corrupt_remote_entry_is_a_miss_a_counted_error_and_deleted() {
    let remote = MemoryRemote::new();
    let cache = remote_only(&remote);
    let key = CacheKey::new("corrupt", &1);
    let remote_key = cache.remote_key(&key);
    for garbage in [vec![], vec![0xC1, 0, 1], b"not an envelope at all".to_vec()] {
        remote.put_raw(&remote_key, garbage, Duration::from_secs(60));
        let got: Result<u32, ()> = cache
            .get_or_load(&key, &Options::new(), || async { Ok(42) })
            .await;
        assert_eq!(got, Ok(42));
        cache.invalidate(&key).await;
    }
    assert_eq!(cache.stats().corrupt_entries, 3);
    assert_eq!(cache.stats().loads, 3);
    // The corrupt entry was replaced by a good one after each load.
    remote.put_raw(&remote_key, vec![0xFF; 40], Duration::from_secs(60));
    assert_eq!(cache.get::<u32>(&key).await, None);
    assert_eq!(remote.raw(&remote_key), None, "bad bytes are deleted");
}

#[tokio::test]
async fn an_unreachable_remote_tier_degrades_to_local_caching() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    remote.set_failing(true);
    let calls = Calls::default();
    for _ in 0..3 {
        let got: Result<u8, ()> = cache
            .get_or_load(&CacheKey::new("down", &1), &Options::new(), || async {
                calls.hit();
                Ok(1)
            })
            .await;
        assert_eq!(got, Ok(1));
    }
    assert_eq!(calls.get(), 1, "the local tier still caches");
    // The failed read is counted; with the remote state unknown nothing is written there.
    assert!(cache.stats().errors >= 1, "remote failures are counted");
}

#[tokio::test]
async fn get_many_reads_the_remote_tier_in_one_round_trip() {
    let remote = MemoryRemote::new();
    let writer = with_remote(&remote);
    let opts = Options::new().ttl(Duration::from_secs(60));
    let keys: Vec<CacheKey> = (0..10).map(|i| CacheKey::new("many", &i)).collect();
    for (i, key) in keys.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        writer.set(key, &(i as u32), &opts).await;
    }
    let reader = remote_only(&remote.node());
    let before = remote.get_count();
    let got = reader.get_many::<u32>(&keys).await;
    assert_eq!(
        remote.get_count() - before,
        10,
        "one get_many carrying all ten keys"
    );
    let expected: Vec<Option<u32>> = (0..10).map(|i| (i % 2 == 0).then_some(i)).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn get_many_treats_corrupt_entries_as_misses_counts_and_deletes_them() {
    let remote = MemoryRemote::new();
    let cache = remote_only(&remote);
    let opts = Options::new().ttl(Duration::from_secs(60));
    let keys: Vec<CacheKey> = (0..4).map(|i| CacheKey::new("many_bad", &i)).collect();
    for (i, key) in keys.iter().enumerate() {
        cache.set(key, &(i as u32), &opts).await;
    }
    let bad = [cache.remote_key(&keys[1]), cache.remote_key(&keys[3])];
    for key in &bad {
        remote.put_raw(key, b"not an envelope".to_vec(), Duration::from_secs(60));
    }
    let got = cache.get_many::<u32>(&keys).await;
    assert_eq!(got, vec![Some(0), None, Some(2), None]);
    assert_eq!(cache.stats().corrupt_entries, 2);
    for key in &bad {
        assert_eq!(remote.raw(key), None, "bad bytes are deleted");
    }
}

#[tokio::test]
async fn tiers_option_keeps_values_out_of_excluded_tiers() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let local_only_opts = Options::new().tiers(Tiers::REQUEST | Tiers::LOCAL);
    let _: Result<u8, ()> = cache
        .get_or_load(&CacheKey::new("private", &1), &local_only_opts, || async {
            Ok(1)
        })
        .await;
    assert!(remote.keys().is_empty());
    assert_eq!(
        cache.get::<u8>(&CacheKey::new("private", &1)).await,
        Some(1)
    );
}
