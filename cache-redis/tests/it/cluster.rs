//! The Redis tier on a three-node Cluster: round trip, TTLs, get_many across slots, the lease,
//! the backplane and tags.

use crate::common;

use std::time::Duration;

use cache_core::{CacheKey, Options};
use cache_redis::test_support::RedisCluster;
use common::{Calls, calls, cluster_tier, eventually, keys_with_ttl, node, remote_only};

const WITHIN: Duration = Duration::from_secs(2);

fn opts() -> Options {
    Options::new().ttl(Duration::from_secs(600))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_ttls_and_get_many_across_slots() {
    let cluster = RedisCluster::start();
    let (a, b) = (
        node(&cluster_tier(&cluster.urls()).await),
        remote_only(&cluster_tier(&cluster.urls()).await),
    );
    let keys: Vec<CacheKey> = (0..30).map(|i| CacheKey::new("item", &i)).collect();
    for (i, key) in keys.iter().enumerate() {
        let options = if i % 3 == 0 {
            opts().tags(["third"])
        } else {
            opts()
        };
        let got: Result<usize, ()> = a.get_or_load(key, &options, || async move { Ok(i) }).await;
        assert_eq!(got, Ok(i));
    }
    let one: Result<usize, ()> = b.get_or_load(&keys[7], &opts(), || async { Ok(0) }).await;
    assert_eq!(one, Ok(7), "read through from the cluster");

    let mut wanted: Vec<CacheKey> = keys.clone();
    wanted.push(CacheKey::new("item", &"missing"));
    let stats = || -> Vec<String> {
        cluster
            .nodes()
            .iter()
            .map(|n| n.query(&["INFO", "commandstats"]).unwrap())
            .collect()
    };
    let total =
        |stats: &[String], command: &str| -> u64 { stats.iter().map(|s| calls(s, command)).sum() };
    let before = stats();
    let values = b.get_many::<usize>(&wanted).await;
    let after = stats();
    let expected: Vec<Option<usize>> = (0..30).map(Some).chain([None]).collect();
    assert_eq!(values, expected);
    let mgets = total(&after, "mget") - total(&before, "mget");
    assert!((2..=31).contains(&mgets), "one MGET per slot ({mgets})");
    assert_eq!(
        total(&after, "get"),
        total(&before, "get"),
        "no single-key GETs"
    );
    assert_eq!(a.stats().errors + b.stats().errors, 0);

    a.invalidate_tag("third").await;
    assert_eq!(b.get::<usize>(&keys[3]).await, None);
    assert_eq!(b.get::<usize>(&keys[4]).await, Some(4));

    let mut total = 0;
    for server in cluster.nodes() {
        let mut conn = common::raw(&server.url()).await;
        for (key, ttl) in keys_with_ttl(&mut conn).await {
            assert!(ttl > 0, "{key} has no TTL ({ttl})");
            total += 1;
        }
        let stats = server.query(&["INFO", "commandstats"]).unwrap();
        assert_eq!(calls(&stats, "del"), 0, "{stats}");
    }
    // On a Cluster the tag set is kept (it expires with its newest member): deleting it could
    // hide a key a load in flight just indexed, and keeping it makes a replay safe.
    assert_eq!(
        total,
        20 + 1,
        "the 20 untagged entries and the tag set remain"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_key_is_loaded_once_across_four_cluster_nodes() {
    let cluster = RedisCluster::start();
    let mut nodes = Vec::new();
    for _ in 0..4 {
        nodes.push(node(&cluster_tier(&cluster.urls()).await));
    }
    let calls = Calls::default();
    let key = CacheKey::new("cold", &"cluster");
    let mut tasks = Vec::new();
    for node in &nodes {
        for _ in 0..250 {
            let (node, calls, key) = (node.clone(), calls.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                node.get_or_load(&key, &opts(), || async {
                    calls.hit();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, String>(7_u8)
                })
                .await
            }));
        }
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(7));
    }
    assert_eq!(calls.get(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidations_reach_every_node_of_a_cluster() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    // Different seed orders: the subscribers listen on different cluster nodes.
    let (a, b) = (
        node(&cluster_tier(&urls).await),
        node(&cluster_tier(&[urls[2].clone(), urls[0].clone()]).await),
    );
    let key = CacheKey::new("profile", &"c");
    for n in [&a, &b] {
        let _: Result<u8, ()> = n.get_or_load(&key, &opts(), || async { Ok(1) }).await;
    }
    a.set(&key, &2_u8, &opts()).await;
    eventually(WITHIN, "b serves the value a wrote", || async {
        b.get::<u8>(&key).await == Some(2)
    })
    .await;
    a.invalidate(&key).await;
    eventually(WITHIN, "b reloads after a invalidated", || async {
        let got: Result<u8, ()> = b.get_or_load(&key, &opts(), || async { Ok(3) }).await;
        got == Ok(3)
    })
    .await;
}
