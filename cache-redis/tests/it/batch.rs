//! `get_or_load_many` through Redis: one `MGET` for the ids the upper tiers lack (one per
//! slot in Cluster), one loader call for the rest, values shared with other nodes, per-id
//! leases against other nodes' batches, and fencing against a concurrent invalidation.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cache_core::{Cache, CacheKey, Options};
use cache_redis::test_support::{RedisCluster, RedisServer};
use common::{calls, cluster_tier, node, remote_only, tier};

fn key_of(id: &u32) -> CacheKey {
    CacheKey::new("user", id)
}

fn name(id: u32) -> String {
    format!("user {id}")
}

/// Loads a batch, recording the ids of every loader call.
async fn many(cache: &Cache, ids: &[u32], asked: &Mutex<Vec<Vec<u32>>>) -> Vec<Option<String>> {
    let load = |ids: Vec<u32>| {
        asked.lock().unwrap().push(ids.clone());
        let found: HashMap<u32, String> = ids.into_iter().map(|id| (id, name(id))).collect();
        async move { Ok::<_, String>(found) }
    };
    let opts = Options::new();
    let got = cache.get_or_load_many(ids.iter().copied(), key_of, &opts, load);
    got.await.expect("the test loader does not fail")
}

fn names(ids: &[u32]) -> Vec<Option<String>> {
    ids.iter().map(|&id| Some(name(id))).collect()
}

/// Half the ids are in Redis (written by another node): `reader` reads all of them with
/// `MGET`s only, loads the other half in one call, and a third node then loads nothing.
async fn half_cached(writer: &Cache, reader: &Cache, third: &Cache, commands: impl Fn() -> u64) {
    let ids: Vec<u32> = (0..40).collect();
    for id in ids.iter().filter(|id| *id % 2 == 0) {
        writer.set(&key_of(id), &name(*id), &Options::new()).await;
    }
    let asked = Mutex::new(Vec::new());
    let single_gets = commands();
    assert_eq!(many(reader, &ids, &asked).await, names(&ids));
    let odd: Vec<u32> = ids.iter().copied().filter(|id| id % 2 == 1).collect();
    assert_eq!(asked.lock().unwrap().clone(), vec![odd]);
    assert_eq!(
        commands(),
        single_gets,
        "no single GET: the lookup was MGET"
    );
    assert_eq!(reader.stats().remote_hits, 20);
    assert_eq!((reader.stats().misses, reader.stats().loads), (20, 20));

    assert_eq!(many(third, &ids, &asked).await, names(&ids));
    assert_eq!(
        asked.lock().unwrap().len(),
        1,
        "the third node found every id in Redis"
    );
    assert_eq!(reader.stats().errors + third.stats().errors, 0);
}

#[tokio::test]
async fn a_batch_reads_redis_with_one_mget_and_loads_only_the_missing_half_once() {
    let server = RedisServer::start();
    let url = server.url();
    let tier = || tier(&url);
    let (writer, reader, third) = (
        node(&tier().await),
        remote_only(&tier().await),
        node(&tier().await),
    );
    let before = server.query(&["INFO", "commandstats"]).unwrap();
    let stats = || calls(&server.query(&["INFO", "commandstats"]).unwrap(), "get");
    half_cached(&writer, &reader, &third, stats).await;
    let after = server.query(&["INFO", "commandstats"]).unwrap();
    assert_eq!(
        calls(&after, "mget") - calls(&before, "mget"),
        2,
        "one MGET per batch"
    );
}

#[tokio::test]
async fn in_a_cluster_the_batch_reads_every_slot_and_loads_the_missing_ids_once() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let tier = || cluster_tier(&urls);
    let (writer, reader, third) = (
        node(&tier().await),
        remote_only(&tier().await),
        node(&tier().await),
    );
    let total = |command: &str| -> u64 {
        let stats = cluster.nodes().iter();
        stats
            .map(|n| calls(&n.query(&["INFO", "commandstats"]).unwrap(), command))
            .sum()
    };
    let slot_of = |id: u32| {
        let key = reader.remote_key(&key_of(&id));
        cluster.nodes()[0]
            .query(&["CLUSTER", "KEYSLOT", &key])
            .unwrap()
    };
    let slots: std::collections::HashSet<String> = (0..40).map(slot_of).collect();
    assert!(slots.len() > 20, "the ids spread over many slots");
    half_cached(&writer, &reader, &third, || total("get")).await;
    assert!(total("mget") > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_batches_on_two_nodes_load_each_id_once_through_per_id_leases() {
    let server = RedisServer::start();
    let (a, b) = (
        node(&tier(&server.url()).await),
        node(&tier(&server.url()).await),
    );
    let counts: Arc<Mutex<HashMap<u32, usize>>> = Arc::default();
    let batch = |cache: Cache, ids: Vec<u32>| {
        let counts = Arc::clone(&counts);
        tokio::spawn(async move {
            let load = |ids: Vec<u32>| {
                let mut seen = counts.lock().unwrap();
                ids.iter().for_each(|id| *seen.entry(*id).or_default() += 1);
                let found: HashMap<u32, String> =
                    ids.into_iter().map(|id| (id, name(id))).collect();
                async move {
                    // Long enough for the other node's batch to reach the leases meanwhile.
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    Ok::<_, String>(found)
                }
            };
            let opts = Options::new();
            let got = cache
                .get_or_load_many(ids.clone(), key_of, &opts, load)
                .await;
            assert_eq!(got, Ok(names(&ids)));
        })
    };
    let first = batch(a, (0..30).collect());
    let second = batch(b, (15..45).collect());
    first.await.unwrap();
    second.await.unwrap();
    let counts = counts.lock().unwrap().clone();
    assert_eq!(counts.len(), 45);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "ids loaded by both nodes: {twice:?}");
}

#[tokio::test]
async fn an_invalidation_on_another_node_during_the_batch_load_keeps_the_old_value_out_of_redis() {
    let server = RedisServer::start();
    let (a, b) = (
        node(&tier(&server.url()).await),
        node(&tier(&server.url()).await),
    );
    let load = |ids: Vec<u32>| {
        let found: HashMap<u32, String> =
            ids.into_iter().map(|id| (id, "v1".to_string())).collect();
        let b = b.clone();
        async move {
            // The row changed after the loader read it; its writer invalidates on node b.
            b.invalidate(&key_of(&1)).await;
            Ok::<_, String>(found)
        }
    };
    let got = a
        .get_or_load_many([1, 2], key_of, &Options::new(), load)
        .await;
    assert_eq!(
        got,
        Ok(vec![Some("v1".to_string()), Some("v1".to_string())])
    );
    let reader = remote_only(&tier(&server.url()).await);
    assert_eq!(
        reader.get::<String>(&key_of(&1)).await,
        None,
        "v1 never reached Redis"
    );
    assert_eq!(
        reader.get::<String>(&key_of(&2)).await,
        Some("v1".to_string())
    );
    assert_eq!(
        a.get::<String>(&key_of(&1)).await,
        None,
        "nor a's local tier"
    );
}
