//! The Redis tier on one server, through the engine: round trip, TTLs, UNLINK, MGET, lease,
//! backplane, tags, size cap, eviction-policy check.

use crate::common;

use std::time::Duration;

use cache_core::{CacheKey, Options, RemoteTier};
use cache_redis::test_support::RedisServer;
use common::{Calls, calls, eventually, keys_with_ttl, node, raw, remote_only, tier};

const WITHIN: Duration = Duration::from_secs(2);

fn opts() -> Options {
    Options::new().ttl(Duration::from_secs(600))
}

#[tokio::test]
async fn a_value_loaded_on_one_node_is_a_remote_hit_on_another() {
    let server = RedisServer::start();
    let (a, b) = (
        node(&tier(&server.url()).await),
        node(&tier(&server.url()).await),
    );
    let key = CacheKey::new("user", &7);
    let first: Result<String, ()> = a
        .get_or_load(&key, &opts(), || async { Ok("Ada".into()) })
        .await;
    let second: Result<String, ()> = b
        .get_or_load(&key, &opts(), || async { panic!("b must read Redis") })
        .await;
    assert_eq!(
        (first.as_deref(), second.as_deref()),
        (Ok("Ada"), Ok("Ada"))
    );
    assert_eq!(
        (a.stats().loads, b.stats().loads, b.stats().remote_hits),
        (1, 0, 1)
    );
    assert_eq!(b.get::<String>(&CacheKey::new("user", &8)).await, None);
    assert_eq!(a.stats().errors + b.stats().errors, 0);
}

#[tokio::test]
async fn every_key_has_a_ttl_and_every_delete_is_an_unlink() {
    let server = RedisServer::start();
    let redis = tier(&server.url()).await;
    let cache = node(&redis);
    let tagged = opts().tags(["chain:1"]);
    for i in 0..20 {
        let key = CacheKey::new("store", &i);
        let options = if i % 2 == 0 { tagged.clone() } else { opts() };
        let _: Result<i32, ()> = cache
            .get_or_load(&key, &options, || async move { Ok(i) })
            .await;
    }
    cache
        .set(&CacheKey::new("kept", &1), &1_u8, &opts().tags(["kept"]))
        .await;
    cache.invalidate(&CacheKey::new("store", &1)).await;
    cache.invalidate_tag("chain:1").await;
    // A lease left behind by a crashed node also expires on its own (it lives under the key).
    let _ = redis
        .try_lease("t:orphan", Duration::from_secs(30), &[], None)
        .await
        .unwrap();

    let mut conn = raw(&server.url()).await;
    let keys = keys_with_ttl(&mut conn).await;
    assert!(keys.len() >= 10, "{keys:?}");
    assert!(
        keys.iter()
            .any(|(k, _)| *k == format!("tag:{}", cache.remote_tag("kept"))),
        "{keys:?}"
    );
    assert!(keys.iter().any(|(k, _)| k == "t:orphan"), "{keys:?}");
    for (key, ttl) in &keys {
        assert!(*ttl > 0, "{key} has no TTL ({ttl})");
    }
    let stats = server.query(&["INFO", "commandstats"]).unwrap();
    assert!(calls(&stats, "unlink") > 0, "{stats}");
    assert_eq!(calls(&stats, "del"), 0, "{stats}");
    assert_eq!(cache.stats().errors, 0);
}

#[tokio::test]
async fn get_many_is_one_mget() {
    let server = RedisServer::start();
    let writer = node(&tier(&server.url()).await);
    let keys: Vec<CacheKey> = (0..6).map(|i| CacheKey::new("n", &i)).collect();
    for (i, key) in keys.iter().enumerate().take(5) {
        writer.set(key, &(i as u32), &opts()).await;
    }
    let reader = remote_only(&tier(&server.url()).await);
    let before = server.query(&["INFO", "commandstats"]).unwrap();
    let values = reader.get_many::<u32>(&keys).await;
    let after = server.query(&["INFO", "commandstats"]).unwrap();
    assert_eq!(
        values,
        vec![Some(0), Some(1), Some(2), Some(3), Some(4), None]
    );
    assert_eq!(calls(&after, "mget") - calls(&before, "mget"), 1);
    assert_eq!(calls(&after, "get"), calls(&before, "get"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_key_is_loaded_once_by_four_nodes_of_250_callers() {
    let server = RedisServer::start();
    let mut nodes = Vec::new();
    for _ in 0..4 {
        nodes.push(node(&tier(&server.url()).await));
    }
    let calls = Calls::default();
    let key = CacheKey::new("cold", &1);
    let mut tasks = Vec::new();
    for node in &nodes {
        for _ in 0..250 {
            let (node, calls, key) = (node.clone(), calls.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                node.get_or_load(&key, &opts(), || async {
                    calls.hit();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, String>(42_u64)
                })
                .await
            }));
        }
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok(42));
    }
    assert_eq!(calls.get(), 1, "4 nodes x 250 callers, one load");
    let waits: u64 = nodes.iter().map(|n| n.stats().lease_waits).sum();
    assert_eq!(
        waits, 3,
        "the three other nodes waited for the lease holder"
    );
}

#[tokio::test]
async fn a_change_on_one_node_evicts_the_old_value_on_another() {
    let server = RedisServer::start();
    let (a, b) = (
        node(&tier(&server.url()).await),
        node(&tier(&server.url()).await),
    );
    let key = CacheKey::new("profile", &1);
    for n in [&a, &b] {
        let _: Result<String, ()> = n
            .get_or_load(&key, &opts(), || async { Ok("v1".into()) })
            .await;
    }
    a.set(&key, &"v2".to_string(), &opts()).await;
    eventually(WITHIN, "b serves the value a wrote", || async {
        b.get::<String>(&key).await.as_deref() == Some("v2")
    })
    .await;
    a.invalidate(&key).await;
    eventually(WITHIN, "b reloads after a invalidated", || async {
        let got: Result<String, ()> = b
            .get_or_load(&key, &opts(), || async { Ok("v3".into()) })
            .await;
        got.as_deref() == Ok("v3")
    })
    .await;
}

#[tokio::test]
async fn a_tag_invalidated_on_one_node_is_gone_everywhere() {
    let server = RedisServer::start();
    let (a, b) = (
        node(&tier(&server.url()).await),
        node(&tier(&server.url()).await),
    );
    let tagged = opts().tags(["chain:7"]);
    let keys: Vec<CacheKey> = (1..=3).map(|i| CacheKey::new("store", &i)).collect();
    a.set(&keys[0], &1_u8, &tagged).await;
    a.set(&keys[1], &2_u8, &tagged).await;
    a.set(&keys[2], &3_u8, &opts()).await;
    for key in &keys {
        assert!(b.get::<u8>(key).await.is_some(), "b has {key}");
    }
    a.invalidate_tag("chain:7").await;
    eventually(WITHIN, "b drops the tagged entries", || async {
        b.get::<u8>(&keys[0]).await.is_none() && b.get::<u8>(&keys[1]).await.is_none()
    })
    .await;
    assert_eq!(b.get::<u8>(&keys[2]).await, Some(3));
    let mut conn = raw(&server.url()).await;
    let left: Vec<String> = keys_with_ttl(&mut conn)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        left,
        vec![a.remote_key(&keys[2])],
        "entries and tag set unlinked"
    );
}

#[tokio::test]
async fn values_over_the_size_cap_are_not_written_and_are_counted() {
    let server = RedisServer::start();
    let redis = common::builder(&server.url())
        .max_value_size(2_000_usize)
        .connect()
        .await
        .unwrap();
    let cache = node(&redis);
    let key = CacheKey::new("blob", &1);
    cache.set(&key, &vec![1_u8; 10], &opts()).await;
    // Random bytes do not compress below the cap.
    let big: Vec<u8> = (0..20_000).map(|_| fastrand::u8(..)).collect();
    cache.set(&key, &big, &opts()).await;
    let mut conn = raw(&server.url()).await;
    let exists: i64 = redis::cmd("EXISTS")
        .arg(cache.remote_key(&key))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        exists, 0,
        "neither the big value nor the older small one is in Redis"
    );
    assert_eq!(redis.stats().oversized_skipped, 1);
    assert_eq!(
        cache.get::<Vec<u8>>(&key).await,
        Some(big),
        "still served locally"
    );
}

#[tokio::test]
async fn health_reports_a_poor_eviction_policy() {
    let default_policy = RedisServer::start();
    let health = tier(&default_policy.url()).await.health();
    let warning = health
        .maxmemory_policy_warning
        .expect("noeviction is flagged");
    assert!(
        warning.contains("noeviction") && warning.contains("allkeys-lfu"),
        "{warning}"
    );
    assert_eq!(health.state, cache_redis::BreakerState::Up);
    assert!(health.backplane_connected);

    let lfu = RedisServer::start_with(&["--maxmemory-policy", "allkeys-lfu"]);
    assert_eq!(
        tier(&lfu.url()).await.health().maxmemory_policy_warning,
        None
    );
}
