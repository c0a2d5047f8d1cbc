//! `Options::force_refresh`: the call reads no tier, loads, and writes through every tier;
//! callers that miss meanwhile share its load; a load that began before it neither serves
//! the forced caller nor overwrites the forced value afterwards.

use crate::common;

use std::sync::Arc;

use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, CacheKey, Codec, Options};
use common::{Calls, local_only, sleep_ms, with_remote};
use tokio::sync::Notify;

fn forced() -> Options {
    Options::new().force_refresh(true)
}

/// The value the remote tier holds for `key`.
fn remote_value(remote: &MemoryRemote, cache: &Cache, key: &CacheKey) -> Option<String> {
    let bytes = remote.raw(&cache.remote_key(key))?;
    Codec::default()
        .decode::<String>(&bytes)
        .ok()
        .map(|(_, v)| v)
}

#[tokio::test]
async fn a_forced_call_loads_over_a_cached_value_and_writes_it_through_every_tier() {
    let remote = MemoryRemote::new();
    let (cache, other_node) = (with_remote(&remote), with_remote(&remote.node()));
    let key = CacheKey::new("rate", &1);
    cache.set(&key, &"old".to_string(), &Options::new()).await;
    assert_eq!(other_node.get::<String>(&key).await.as_deref(), Some("old"));

    let calls = Calls::default();
    let load = || async {
        calls.hit();
        Ok::<_, String>("new".to_string())
    };
    assert_eq!(
        cache.get_or_load(&key, &forced(), load).await,
        Ok("new".into())
    );
    assert_eq!(calls.get(), 1, "the cached value was not served");
    assert_eq!(cache.get::<String>(&key).await.as_deref(), Some("new"));
    assert_eq!(remote_value(&remote, &cache, &key).as_deref(), Some("new"));
    assert_eq!(
        other_node.get::<String>(&key).await.as_deref(),
        Some("new"),
        "the other node dropped its local copy"
    );
}

#[tokio::test]
async fn callers_that_miss_while_a_forced_load_runs_share_it() {
    let cache = local_only();
    let key = CacheKey::new("report", &1);
    let (forced_calls, plain_calls, arrived) =
        (Calls::default(), Calls::default(), Calls::default());
    let readers = 6;
    let leader = {
        let (cache, key, forced_calls, arrived) = (
            cache.clone(),
            key.clone(),
            forced_calls.clone(),
            arrived.clone(),
        );
        tokio::spawn(async move {
            let load = || async {
                forced_calls.hit();
                arrived.reach(readers).await;
                sleep_ms(50).await;
                Ok::<_, String>("forced".to_string())
            };
            cache.get_or_load(&key, &forced(), load).await
        })
    };
    forced_calls.reach(1).await;
    let tasks: Vec<_> = (0..readers)
        .map(|_| {
            let (cache, key, plain_calls, arrived) = (
                cache.clone(),
                key.clone(),
                plain_calls.clone(),
                arrived.clone(),
            );
            tokio::spawn(async move {
                arrived.hit();
                let load = || async {
                    plain_calls.hit();
                    Ok::<_, String>("plain".to_string())
                };
                cache.get_or_load(&key, &Options::new(), load).await
            })
        })
        .collect();
    assert_eq!(leader.await.unwrap(), Ok("forced".to_string()));
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok("forced".to_string()));
    }
    assert_eq!(
        (forced_calls.get(), plain_calls.get()),
        (1, 0),
        "one load served everyone"
    );
}

/// An older load is in flight on `cache` when a forced call comes: the forced call loads
/// itself, and the older load, finishing afterwards, stores its value nowhere.
async fn older_load_cannot_overwrite(cache: &Cache, key: &CacheKey) {
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let older = {
        let (cache, key, started, release) =
            (cache.clone(), key.clone(), started.clone(), release.clone());
        tokio::spawn(async move {
            let load = || async {
                started.notify_one();
                release.notified().await;
                Ok::<_, String>("older".to_string())
            };
            cache.get_or_load(&key, &Options::new(), load).await
        })
    };
    started.notified().await;
    let calls = Calls::default();
    let load = || async {
        calls.hit();
        Ok::<_, String>("forced".to_string())
    };
    assert_eq!(
        cache.get_or_load(key, &forced(), load).await,
        Ok("forced".into())
    );
    assert_eq!(
        calls.get(),
        1,
        "the forced call loaded instead of waiting for the older load"
    );

    release.notify_one();
    assert_eq!(
        older.await.unwrap(),
        Ok("older".to_string()),
        "its own caller gets it"
    );
    assert_eq!(cache.get::<String>(key).await.as_deref(), Some("forced"));
    assert_eq!(cache.stats().fenced_fills, 1, "the older fill was refused");
}

#[tokio::test]
async fn an_older_load_cannot_overwrite_a_forced_value_in_the_local_tier() {
    older_load_cannot_overwrite(&local_only(), &CacheKey::new("price", &1)).await;
}

#[tokio::test]
async fn an_older_load_cannot_overwrite_a_forced_value_in_the_remote_tier() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let key = CacheKey::new("price", &1);
    older_load_cannot_overwrite(&cache, &key).await;
    assert_eq!(
        remote_value(&remote, &cache, &key).as_deref(),
        Some("forced")
    );
}

#[test]
fn a_forced_sync_call_loads_over_a_cached_value() {
    let cache = local_only();
    let key = CacheKey::new("parse", &1);
    assert_eq!(
        cache.get_or_load_sync(&key, &Options::new(), || Ok::<_, ()>(1_u8)),
        Ok(1)
    );
    assert_eq!(
        cache.get_or_load_sync(&key, &forced(), || Ok::<_, ()>(2_u8)),
        Ok(2)
    );
    assert_eq!(
        cache.get_or_load_sync(&key, &Options::new(), || Ok::<_, ()>(3_u8)),
        Ok(2)
    );
}
