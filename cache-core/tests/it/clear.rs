//! `Cache::clear`: the namespace is emptied on this node, on every other node and in the
//! remote tier, by moving it to a new generation.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, CacheKey, Error, Options, RemoteEvent, RemoteListener, RemoteTier};
use common::{local_only, with_remote};
use tokio::sync::Notify;

fn long() -> Options {
    Options::new().ttl(Duration::from_secs(600))
}

fn keys(n: u32) -> Vec<CacheKey> {
    (0..n).map(|i| CacheKey::new("item", &i)).collect()
}

#[tokio::test]
async fn after_clear_no_tier_of_this_node_serves_a_value_written_before() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let keys = keys(50);
    for (i, key) in keys.iter().enumerate() {
        cache.set(key, &i, &long()).await;
    }
    cache
        .get_or_load(&keys[0], &long(), || async { Ok::<_, ()>(0_usize) })
        .await
        .unwrap();

    cache.clear().await.unwrap();

    assert_eq!(cache.get_many::<usize>(&keys).await, vec![None; 50]);
    let reloaded = cache
        .get_or_load(&keys[0], &long(), || async { Ok::<_, ()>(1000_usize) })
        .await;
    assert_eq!(reloaded, Ok(1000), "the loader ran again");
}

#[tokio::test]
async fn clear_is_one_counter_increment_and_old_entries_only_expire() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let keys = keys(200);
    for key in &keys {
        cache.set(key, &1_u8, &long()).await;
    }
    let (sets, deletes) = (remote.set_count(), remote.delete_count());

    cache.clear().await.unwrap();

    assert_eq!(remote.set_count(), sets, "nothing rewritten");
    assert_eq!(remote.delete_count(), deletes, "nothing deleted one by one");
    assert_eq!(remote.keys().len(), 200, "old entries stay until their TTL");
    assert!(remote.keys().iter().all(|k| remote.ttl_of(k).is_some()));
    assert_eq!(cache.generation(), 1);
    assert_eq!(cache.remote_key(&keys[0]), "t:@1:item:0");
    cache.set(&keys[0], &2_u8, &long()).await;
    assert!(remote.raw("t:@1:item:0").is_some());
    assert_eq!(
        cache.get::<u8>(&keys[0]).await,
        Some(2),
        "written after: served"
    );
}

#[tokio::test]
async fn another_node_drops_its_copies_once_the_clear_is_delivered() {
    let remote = MemoryRemote::new();
    let (a, b) = (with_remote(&remote), with_remote(&remote.node()));
    let key = CacheKey::new("user", &7);
    a.set(&key, &"old".to_string(), &long()).await;
    assert_eq!(b.get::<String>(&key).await.as_deref(), Some("old"));
    let local = b.local().unwrap();
    local.run_pending_tasks();
    assert_eq!(local.entry_count(), 1, "b holds a local copy");

    a.clear().await.unwrap();

    assert_eq!(b.generation(), 1, "b switched generation");
    assert_eq!(b.get::<String>(&key).await, None, "b's local copy is gone");
    b.set(&key, &"new".to_string(), &long()).await;
    assert_eq!(a.get::<String>(&key).await.as_deref(), Some("new"));
}

#[tokio::test]
async fn a_node_started_after_a_clear_reads_the_new_generation_first() {
    let remote = MemoryRemote::new();
    let a = with_remote(&remote);
    let key = CacheKey::new("user", &7);
    a.set(&key, &"old".to_string(), &long()).await;
    a.clear().await.unwrap();
    a.clear().await.unwrap();

    let late = with_remote(&remote.node());
    assert_eq!(
        late.get::<String>(&key).await,
        None,
        "not the generation-0 entry"
    );
    assert_eq!(late.generation(), 2);
}

#[tokio::test]
async fn clear_leaves_other_namespaces_alone() {
    let remote = MemoryRemote::new();
    let app = with_remote(&remote);
    let other = Cache::builder()
        .namespace("other")
        .remote(remote.node())
        .build();
    let key = CacheKey::new("user", &7);
    other.set(&key, &1_u8, &long()).await;

    app.clear().await.unwrap();

    assert_eq!(other.generation(), 0);
    assert_eq!(other.get::<u8>(&key).await, Some(1));
}

#[tokio::test]
async fn a_cleared_value_is_not_served_as_fail_safe_stale() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let key = CacheKey::new("price", &1);
    let opts = Options::new()
        .ttl(Duration::from_secs(600))
        .stale(Duration::from_secs(3600));
    cache.set(&key, &10_u32, &opts).await;
    cache.clear().await.unwrap();
    let got = cache
        .get_or_load(&key, &opts, || async { Err::<u32, _>("db down") })
        .await;
    assert_eq!(
        got,
        Err("db down"),
        "cleared means gone, as after invalidate"
    );
}

#[tokio::test]
async fn a_clear_that_cannot_reach_the_remote_tier_fails_and_still_drops_this_node() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let key = CacheKey::new("user", &7);
    cache.set(&key, &1_u8, &long()).await;
    remote.set_failing(true);

    let cleared = cache.clear().await;

    assert!(matches!(cleared, Err(Error::Remote(_))), "{cleared:?}");
    assert_eq!(cache.generation(), 0, "no generation was created");
    assert_eq!(
        cache.get::<u8>(&key).await,
        None,
        "this node dropped its copy"
    );
    remote.set_failing(false);
    cache.clear().await.unwrap();
    assert_eq!(cache.generation(), 1, "a retry clears");
}

#[tokio::test]
async fn without_a_remote_tier_clear_empties_the_local_tier() {
    let cache = local_only();
    let key = CacheKey::new("user", &7);
    cache.set(&key, &1_u8, &long()).await;
    cache.clear().await.unwrap();
    assert_eq!(cache.get::<u8>(&key).await, None);
}

/// A load that began before `clear` and finishes after it stores nothing anywhere: not in this
/// node's tiers, not in the new generation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_in_flight_during_clear_never_stores_its_result() {
    for cache_remote in [true, false] {
        let remote = MemoryRemote::new();
        let cache = if cache_remote {
            with_remote(&remote)
        } else {
            local_only()
        };
        let key = CacheKey::new("slow", &1);
        let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let load = {
            let (cache, key) = (cache.clone(), key.clone());
            let (started, release) = (Arc::clone(&started), Arc::clone(&release));
            tokio::spawn(async move {
                cache
                    .get_or_load_static(&key, &long(), move || async move {
                        started.notify_one();
                        release.notified().await;
                        Ok::<_, ()>("before clear".to_string())
                    })
                    .await
            })
        };
        started.notified().await;
        cache.clear().await.unwrap();
        release.notify_one();
        assert_eq!(load.await.unwrap().as_deref(), Ok("before clear"));

        assert_eq!(
            cache.get::<String>(&key).await,
            None,
            "remote: {cache_remote}"
        );
        let next = cache
            .get_or_load(&key, &long(), || async { Ok::<_, ()>("after".to_string()) })
            .await;
        assert_eq!(next.as_deref(), Ok("after"));
        let stored: Vec<_> = remote.keys();
        assert!(stored.iter().all(|k| k.starts_with("t:@1:")), "{stored:?}");
    }
}

/// Randomized history check: readers on two nodes race clears from one node. Every value is
/// the number of clears *started* when its load began; a read that starts after `k` clears
/// have returned must never get a value below `k`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_never_see_a_value_loaded_before_a_finished_clear() {
    let remote = MemoryRemote::new();
    let nodes = [with_remote(&remote), with_remote(&remote.node())];
    let started = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let violations = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    for worker in 0..8_u32 {
        let cache = nodes[worker as usize % 2].clone();
        let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
        let (stop, violations, reads) = (
            Arc::clone(&stop),
            Arc::clone(&violations),
            Arc::clone(&reads),
        );
        readers.push(tokio::spawn(async move {
            let mut n = 0_u32;
            while !stop.load(SeqCst) {
                let key = CacheKey::new("hot", &(n % 16));
                n += 1;
                let floor = finished.load(SeqCst);
                let started = Arc::clone(&started);
                let got = cache
                    .get_or_load(&key, &long(), || async move {
                        let epoch = started.load(SeqCst);
                        tokio::task::yield_now().await;
                        Ok::<_, ()>(epoch)
                    })
                    .await
                    .unwrap();
                reads.fetch_add(1, SeqCst);
                if got < floor {
                    violations.fetch_add(1, SeqCst);
                }
                // A local hit never yields: let the clearing task run.
                tokio::task::yield_now().await;
            }
        }));
    }
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(2)).await;
        started.fetch_add(1, SeqCst);
        nodes[0].clear().await.unwrap();
        finished.fetch_add(1, SeqCst);
    }
    stop.store(true, SeqCst);
    for reader in readers {
        reader.await.unwrap();
    }
    assert!(reads.load(SeqCst) > 100, "the readers ran");
    assert_eq!(violations.load(SeqCst), 0);
    assert_eq!(nodes[1].generation(), 40);
}

/// A tier whose generation increments land but whose replies are lost (a timeout).
struct LostReply(MemoryRemote);

#[async_trait::async_trait]
impl RemoteTier for LostReply {
    async fn get(&self, key: &str) -> cache_core::Result<Option<Vec<u8>>> {
        self.0.get(key).await
    }
    async fn get_many(&self, keys: &[String]) -> cache_core::Result<Vec<Option<Vec<u8>>>> {
        self.0.get_many(keys).await
    }
    async fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
    ) -> cache_core::Result<()> {
        self.0.set(key, value, ttl, tags).await
    }
    async fn delete(&self, key: &str) -> cache_core::Result<()> {
        self.0.delete(key).await
    }
    async fn publish(&self, event: RemoteEvent) -> cache_core::Result<()> {
        self.0.publish(event).await
    }
    fn subscribe(&self, listener: RemoteListener) {
        self.0.subscribe(listener);
    }
    async fn generation(&self, key: &str) -> cache_core::Result<u64> {
        self.0.generation(key).await
    }
    async fn bump_generation(&self, key: &str) -> cache_core::Result<u64> {
        self.0.bump_generation(key).await?;
        Err(Error::RemoteTimeout(Duration::from_millis(1)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clear_whose_reply_was_lost_still_moves_every_node_to_the_new_generation() {
    let remote = MemoryRemote::new();
    let a = Cache::builder()
        .namespace("t")
        .remote(LostReply(remote.clone()))
        .build();
    let b = with_remote(&remote.node());
    let key = CacheKey::new("user", &7);
    a.set(&key, &1_u8, &long()).await;
    assert_eq!(b.get::<u8>(&key).await, Some(1));

    let cleared = a.clear().await;

    assert!(
        matches!(cleared, Err(Error::RemoteTimeout(_))),
        "{cleared:?}"
    );
    assert_eq!(a.get::<u8>(&key).await, None, "a re-read the generation");
    assert_eq!(a.generation(), 1);
    for _ in 0..500 {
        if b.generation() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(b.generation(), 1, "b re-read it on the announced drop");
    assert_eq!(b.get::<u8>(&key).await, None);
}
