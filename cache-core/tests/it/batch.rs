//! `get_or_load_many`: one loader call with only the missing ids, answers in the caller's
//! order, every tier backfilled, absent ids, loader errors, coalescing with overlapping
//! batches and single loads (`batch_coalescing`), and fencing against a concurrent invalidation.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, CacheKey, Options};
use common::{local_only, remote_only, sleep_ms, with_remote};

pub(crate) fn user_key(id: &u32) -> CacheKey {
    CacheKey::new("user", id)
}

pub(crate) fn name(id: u32) -> String {
    format!("user {id}")
}

/// A loader that records every call's ids and finds every id except those in `missing`.
#[derive(Clone, Default)]
struct Db {
    calls: Arc<Mutex<Vec<Vec<u32>>>>,
    missing: Vec<u32>,
}

impl Db {
    async fn load(&self, ids: Vec<u32>) -> Result<HashMap<u32, String>, String> {
        self.calls.lock().unwrap().push(ids.clone());
        let found = ids.into_iter().filter(|id| !self.missing.contains(id));
        Ok(found.map(|id| (id, name(id))).collect())
    }

    fn calls(&self) -> Vec<Vec<u32>> {
        self.calls.lock().unwrap().clone()
    }
}

async fn many(cache: &Cache, ids: &[u32], opts: &Options, db: &Db) -> Vec<Option<String>> {
    let got = cache
        .get_or_load_many(ids.iter().copied(), user_key, opts, |ids| db.load(ids))
        .await;
    got.expect("the test loader does not fail")
}

pub(crate) fn names(ids: &[u32]) -> Vec<Option<String>> {
    ids.iter().map(|&id| Some(name(id))).collect()
}

#[tokio::test]
async fn the_loader_gets_only_the_missing_ids_once_and_answers_keep_the_callers_order() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let opts = Options::new();
    cache.set(&user_key(&2), &name(2), &opts).await;
    let elsewhere = remote_only(&remote);
    elsewhere.set(&user_key(&4), &name(4), &opts).await;
    let db = Db::default();

    let asked = [5, 2, 3, 4, 5, 1];
    assert_eq!(many(&cache, &asked, &opts, &db).await, names(&asked));
    assert_eq!(
        db.calls(),
        vec![vec![5, 3, 1]],
        "one call; 2 was local, 4 remote, 5 asked twice"
    );
}

#[tokio::test]
async fn every_tier_is_backfilled_so_no_later_call_loads_again_here_or_on_another_node() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let (opts, db) = (Options::new(), Db::default());
    let ids = [1, 2, 3];
    many(&cache, &ids, &opts, &db).await;

    assert_eq!(many(&cache, &ids, &opts, &db).await, names(&ids));
    let other_node = with_remote(&remote.node());
    assert_eq!(many(&other_node, &ids, &opts, &db).await, names(&ids));
    assert_eq!(
        db.calls().len(),
        1,
        "the second and third calls loaded nothing"
    );
    assert_eq!(remote.keys().len(), 3, "every id is in the remote tier");
    remote.set_failing(true);
    for id in ids {
        let local = cache.get::<String>(&user_key(&id)).await;
        assert_eq!(local, Some(name(id)), "in the local tier");
    }
}

#[tokio::test]
async fn ids_the_loader_does_not_return_are_none_and_loaded_again_next_time() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let db = Db {
        missing: vec![2],
        ..Db::default()
    };
    let got = many(&cache, &[1, 2], &Options::new(), &db).await;
    assert_eq!(got, vec![Some(name(1)), None]);
    many(&cache, &[1, 2], &Options::new(), &db).await;
    assert_eq!(db.calls(), vec![vec![1, 2], vec![2]]);
    assert_eq!(remote.keys(), vec![cache.remote_key(&user_key(&1))]);
}

#[tokio::test]
async fn with_none_ttl_absent_ids_are_cached_as_absent_in_every_tier() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let opts = Options::new().none_ttl(Duration::from_secs(60));
    let db = Db {
        missing: vec![2],
        ..Db::default()
    };
    assert_eq!(
        many(&cache, &[1, 2], &opts, &db).await,
        vec![Some(name(1)), None]
    );
    assert_eq!(
        many(&cache, &[1, 2], &opts, &db).await,
        vec![Some(name(1)), None]
    );
    let other_node = with_remote(&remote.node());
    assert_eq!(many(&other_node, &[2], &opts, &db).await, vec![None]);
    assert_eq!(
        db.calls(),
        vec![vec![1, 2]],
        "the absent id came from the cache"
    );
    let ttl = remote.ttl_of(&cache.remote_key(&user_key(&2)));
    assert!(ttl.is_some_and(|ttl| ttl <= Duration::from_secs(60)));
    // The same storage as `get_or_load_option`: a single call sees the cached absence.
    let single = cache
        .get_or_load_option(&user_key(&2), &opts, || async {
            Ok::<_, String>(Some("loaded".to_string()))
        })
        .await;
    assert_eq!(single, Ok(None));
}

#[tokio::test]
async fn a_loader_error_is_returned_and_nothing_is_written() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    cache.set(&user_key(&1), &name(1), &Options::new()).await;
    let sets = remote.set_count();
    let failing = |_ids: Vec<u32>| async { Err::<HashMap<u32, String>, _>("db down".to_string()) };
    let got = cache
        .get_or_load_many([1, 2, 3], user_key, &Options::new(), failing)
        .await;
    assert_eq!(got, Err("db down".to_string()));
    assert_eq!(remote.set_count(), sets, "no remote write");
    assert_eq!(remote.keys(), vec![cache.remote_key(&user_key(&1))]);
    for id in [2, 3] {
        assert_eq!(cache.get::<String>(&user_key(&id)).await, None, "not local");
    }

    let db = Db::default();
    assert_eq!(
        many(&cache, &[1, 2, 3], &Options::new(), &db).await,
        names(&[1, 2, 3])
    );
    assert_eq!(
        db.calls(),
        vec![vec![2, 3]],
        "the failed ids are loaded again"
    );
}

#[tokio::test]
async fn duplicate_ids_are_loaded_once_and_answered_everywhere() {
    let cache = local_only();
    let db = Db::default();
    let got = many(&cache, &[7, 7, 8, 7], &Options::new(), &db).await;
    assert_eq!(got, names(&[7, 7, 8, 7]));
    assert_eq!(db.calls(), vec![vec![7, 8]]);
}

#[tokio::test]
async fn an_invalidation_during_the_batch_load_keeps_the_loaded_value_out_of_every_tier() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let db = Arc::new(Mutex::new(HashMap::from([(1_u32, "v1"), (2, "v1")])));
    let load = |ids: Vec<u32>| {
        // Read before the update below: what the batch loads is already old when it returns.
        let read: HashMap<u32, String> = (ids.iter())
            .map(|id| (*id, db.lock().unwrap()[id].to_string()))
            .collect();
        let (cache, db) = (cache.clone(), Arc::clone(&db));
        async move {
            db.lock().unwrap().insert(1, "v2");
            cache.invalidate(&user_key(&1)).await;
            Ok::<_, String>(read)
        }
    };
    let got = cache
        .get_or_load_many([1, 2], user_key, &Options::new(), load)
        .await;
    assert_eq!(
        got,
        Ok(vec![Some("v1".to_string()), Some("v1".to_string())])
    );

    assert_eq!(
        cache.get::<String>(&user_key(&1)).await,
        None,
        "v1 was kept out"
    );
    assert_eq!(remote.raw(&cache.remote_key(&user_key(&1))), None);
    let fresh = with_remote(&remote.node());
    assert_eq!(fresh.get::<String>(&user_key(&1)).await, None);
    assert_eq!(
        cache.get::<String>(&user_key(&2)).await,
        Some("v1".to_string())
    );
    let reload = |ids: Vec<u32>| {
        let read = (ids.iter()).map(|id| (*id, db.lock().unwrap()[id].to_string()));
        let read: HashMap<u32, String> = read.collect();
        async move { Ok::<_, String>(read) }
    };
    let again = cache
        .get_or_load_many([1, 2], user_key, &Options::new(), reload)
        .await;
    assert_eq!(
        again,
        Ok(vec![Some("v2".to_string()), Some("v1".to_string())])
    );
}

#[tokio::test]
async fn every_id_is_counted_like_a_single_call_hits_misses_and_loads() {
    let cache = local_only();
    cache.set(&user_key(&1), &name(1), &Options::new()).await;
    let db = Db::default();
    many(&cache, &[1, 2, 3], &Options::new(), &db).await;
    let stats = cache.stats();
    assert_eq!((stats.local_hits, stats.misses, stats.loads), (1, 2, 2));
    many(&cache, &[1, 2, 3], &Options::new(), &db).await;
    assert_eq!(cache.stats().local_hits, 4);
    assert_eq!(cache.stats().loads, 2);
}

#[tokio::test]
async fn a_stale_entry_is_reloaded_with_the_batch_not_served() {
    let cache = local_only();
    let stale_soon = Options::new()
        .ttl(Duration::from_millis(1))
        .stale(Duration::from_secs(3600))
        .jitter(0.0);
    cache
        .set(&user_key(&1), &"old".to_string(), &stale_soon)
        .await;
    sleep_ms(20).await;
    let db = Db::default();
    assert_eq!(
        many(&cache, &[1, 2], &Options::new(), &db).await,
        names(&[1, 2])
    );
    assert_eq!(db.calls(), vec![vec![1, 2]]);
}
