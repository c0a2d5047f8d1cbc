//! Feature flags switch caching per cache name without touching call sites.

use crate::common;

use cache_core::{Cache, CacheKey, FlagMode, Flags, Options};
use common::Calls;

async fn call(cache: &Cache, key: &CacheKey, calls: &Calls, value: u32) -> u32 {
    cache
        .get_or_load(key, &Options::new(), || async {
            calls.hit();
            Ok::<u32, ()>(value)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn off_calls_the_loader_every_time_and_writes_nothing() {
    let cache = Cache::builder()
        .flags(Flags::parse("chains=off").unwrap())
        .build();
    let calls = Calls::default();
    let key = CacheKey::new("chains", &1);
    for _ in 0..3 {
        call(&cache, &key, &calls, 1).await;
    }
    assert_eq!(calls.get(), 3);
    assert_eq!(cache.stats().bypassed, 3);
    // Turning it on at runtime takes effect on the next call.
    cache.flags().set("chains", FlagMode::On);
    call(&cache, &key, &calls, 1).await;
    call(&cache, &key, &calls, 1).await;
    assert_eq!(calls.get(), 4);
}

#[tokio::test]
async fn the_global_switch_applies_to_caches_without_their_own_entry() {
    let cache = Cache::builder()
        .flags(Flags::parse("*=off, users=on").unwrap())
        .build();
    let calls = Calls::default();
    for _ in 0..2 {
        call(&cache, &CacheKey::new("users", &1), &calls, 1).await;
        call(&cache, &CacheKey::new("posts", &1), &calls, 1).await;
    }
    assert_eq!(calls.get(), 3, "users cached once, posts loaded twice");
}

#[tokio::test]
async fn percent_caches_a_stable_share_of_keys() {
    let cache = Cache::builder()
        .flags(Flags::parse("likes=25%").unwrap())
        .build();
    let calls = Calls::default();
    for round in 0..2 {
        for i in 0..1_000 {
            call(&cache, &CacheKey::new("likes", &i), &calls, round).await;
        }
    }
    let bypassed = cache.stats().bypassed;
    // Each bypassed key is bypassed in both rounds; each cached key loads once.
    assert_eq!(bypassed % 2, 0);
    let cached_keys = 1_000 - bypassed / 2;
    assert!(
        (150..350).contains(&cached_keys),
        "{cached_keys} of 1000 cached at 25%"
    );
    assert_eq!(calls.get() as u64, cached_keys + bypassed);
}

#[tokio::test]
async fn shadow_returns_fresh_values_and_counts_mismatches() {
    let cache = Cache::builder()
        .flags(Flags::parse("users=shadow").unwrap())
        .build();
    let calls = Calls::default();
    let key = CacheKey::new("users", &1);
    assert_eq!(call(&cache, &key, &calls, 1).await, 1); // populates
    assert_eq!(call(&cache, &key, &calls, 1).await, 1); // match
    assert_eq!(call(&cache, &key, &calls, 2).await, 2); // fresh returned, mismatch counted
    assert_eq!(calls.get(), 3);
    let stats = cache.stats();
    assert_eq!((stats.shadow_matches, stats.shadow_mismatches), (1, 1));
}

#[test]
fn invalid_flag_text_names_the_bad_entry() {
    let err = Flags::parse("chains=on, likes=120%").unwrap_err();
    assert_eq!(err.entry, "likes=120%");
    assert!(err.to_string().contains("likes=120%"));
    assert!(Flags::parse("chains").is_err());
}

#[tokio::test]
async fn an_explicit_flag_name_overrides_the_cache_name() {
    let cache = Cache::builder()
        .flags(Flags::parse("experimental=off").unwrap())
        .build();
    let calls = Calls::default();
    let opts = Options::new().flag("experimental");
    for _ in 0..2 {
        let _: Result<u8, ()> = cache
            .get_or_load(&CacheKey::new("users", &1), &opts, || async {
                calls.hit();
                Ok(1)
            })
            .await;
    }
    assert_eq!(calls.get(), 2);
}

#[test]
fn percent_mode_caches_a_quarter_of_ten_thousand_keys_and_always_the_same_ones() {
    let flags = Flags::parse("likes=25%").unwrap();
    let cache = Cache::builder().flags(flags).build();
    let chosen = |cache: &Cache| -> Vec<bool> {
        (0..10_000)
            .map(|i| {
                let key = CacheKey::new("likes", &i);
                let before = cache.stats().bypassed;
                let _ = cache.get_or_load_sync(&key, &Options::new(), || Ok::<u8, ()>(1));
                cache.stats().bypassed == before
            })
            .collect()
    };
    let first = chosen(&cache);
    let cached = first.iter().filter(|c| **c).count();
    assert!(
        (2_300..=2_700).contains(&cached),
        "{cached} of 10000 at 25 %"
    );
    // Another process (a fresh cache) picks exactly the same keys.
    let other = Cache::builder()
        .flags(Flags::parse("likes=25%").unwrap())
        .build();
    assert_eq!(chosen(&other), first);
}

#[test]
fn live_beats_env_beats_code_and_clearing_live_restores_the_lower_layer() {
    use cache_core::FlagLayer;
    let flags = Flags::parse("chains=off, *=on").unwrap();
    assert_eq!(flags.mode("chains"), FlagMode::Off);
    flags.set("chains", FlagMode::Percent(10));
    assert_eq!(flags.mode("chains"), FlagMode::Percent(10));
    assert_eq!(
        flags.described(),
        vec![
            ("*".to_string(), FlagMode::On, FlagLayer::Code),
            ("chains".to_string(), FlagMode::Percent(10), FlagLayer::Live),
        ]
    );
    flags.clear_live("chains");
    assert_eq!(flags.mode("chains"), FlagMode::Off);
    flags.replace_live(vec![("*".into(), FlagMode::Off)]);
    assert_eq!(flags.mode("users"), FlagMode::Off);
    assert_eq!(flags.mode("chains"), FlagMode::Off);
}

#[test]
fn invalid_live_entries_are_ignored_and_reported_while_valid_ones_apply() {
    let flags = Flags::new();
    let rejected = flags.apply_live("users=off, posts=sometimes, likes=50%");
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].entry, "posts=sometimes");
    assert_eq!(flags.mode("users"), FlagMode::Off);
    assert_eq!(flags.mode("likes"), FlagMode::Percent(50));
    assert_eq!(flags.mode("posts"), FlagMode::On);
}
