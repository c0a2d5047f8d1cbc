//! Several nodes sharing one remote tier: backplane invalidation, tags, the stampede lease.

use crate::common;

use std::time::Duration;

use cache_core::tier::memory::MemoryRemote;
use cache_core::{CacheKey, Options};
use common::{Calls, sleep_ms, with_remote};

#[tokio::test]
async fn invalidate_on_one_node_evicts_every_nodes_local_copy() {
    let remote = MemoryRemote::new();
    let (a, b) = (with_remote(&remote), with_remote(&remote.node()));
    let key = CacheKey::new("user", &7);
    let opts = Options::new().ttl(Duration::from_secs(600));
    for node in [&a, &b] {
        let _: Result<String, ()> = node
            .get_or_load(&key, &opts, || async { Ok("v1".into()) })
            .await;
    }
    a.invalidate(&key).await;
    let got: Result<String, ()> = b
        .get_or_load(&key, &opts, || async { Ok("v2".into()) })
        .await;
    assert_eq!(
        got.as_deref(),
        Ok("v2"),
        "node b reloaded after node a invalidated"
    );
    assert_eq!(b.stats().loads, 1, "b's first read was a remote hit");
}

#[tokio::test]
async fn set_on_one_node_replaces_the_value_other_nodes_serve() {
    let remote = MemoryRemote::new();
    let (a, b) = (with_remote(&remote), with_remote(&remote.node()));
    let key = CacheKey::new("profile", &1);
    let opts = Options::new().ttl(Duration::from_secs(600));
    let _: Result<u32, ()> = b.get_or_load(&key, &opts, || async { Ok(1) }).await;
    a.set(&key, &2_u32, &opts).await;
    assert_eq!(b.get::<u32>(&key).await, Some(2));
}

#[tokio::test]
async fn invalidate_tag_removes_tagged_entries_on_every_tier_and_node() {
    let remote = MemoryRemote::new();
    let (a, b) = (with_remote(&remote), with_remote(&remote.node()));
    let tagged = Options::new()
        .ttl(Duration::from_secs(600))
        .tags(["chain:7"]);
    let untagged = Options::new().ttl(Duration::from_secs(600));
    let (k1, k2, k3) = (
        CacheKey::new("store", &1),
        CacheKey::new("store", &2),
        CacheKey::new("store", &3),
    );
    a.set(&k1, &1_u8, &tagged).await;
    a.set(&k2, &2_u8, &tagged).await;
    a.set(&k3, &3_u8, &untagged).await;
    for k in [&k1, &k2, &k3] {
        assert!(b.get::<u8>(k).await.is_some());
    }
    a.invalidate_tag("chain:7").await;
    for node in [&a, &b] {
        node.local().unwrap().run_pending_tasks();
        assert_eq!(node.get::<u8>(&k1).await, None);
        assert_eq!(node.get::<u8>(&k2).await, None);
        assert_eq!(node.get::<u8>(&k3).await, Some(3));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_key_is_loaded_once_across_nodes_thanks_to_the_lease() {
    let remote = MemoryRemote::new();
    let nodes: Vec<_> = (0..4).map(|_| with_remote(&remote.node())).collect();
    let calls = Calls::default();
    let key = CacheKey::new("cold-everywhere", &1);
    let mut tasks = Vec::new();
    for node in &nodes {
        for _ in 0..50 {
            let (node, calls, key) = (node.clone(), calls.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                node.get_or_load(&key, &Options::new(), || async {
                    calls.hit();
                    sleep_ms(80).await;
                    Ok::<_, String>(99_u32)
                })
                .await
            }));
        }
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(99));
    }
    assert_eq!(calls.get(), 1, "4 nodes x 50 callers, one load");
    let waits: u64 = nodes.iter().map(|n| n.stats().lease_waits).sum();
    assert_eq!(
        waits, 3,
        "every other node waited for the lease holder once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_held_by_a_dead_process_delays_the_load_only_until_it_expires() {
    use cache_core::RemoteTier;
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let key = CacheKey::new("orphan-lease", &1);
    // Some other process took the lease and died.
    let lease = remote
        .node()
        .try_lease(
            &cache.remote_key(&key),
            Duration::from_millis(100),
            &[],
            None,
        )
        .await
        .unwrap();
    assert!(matches!(lease, cache_core::Lease::Acquired(_)));
    let opts = Options::new().lease_ttl(Duration::from_millis(100));
    let started = std::time::Instant::now();
    let got: Result<u8, ()> = cache.get_or_load(&key, &opts, || async { Ok(5) }).await;
    assert_eq!(got, Ok(5));
    assert!(started.elapsed() >= Duration::from_millis(90));
    assert!(started.elapsed() < Duration::from_secs(2));
}
