//! Rule 6: a tag invalidation whose reply was lost (the server froze after receiving it) is
//! queued and replayed, and the replay still finds every member: no member leaves the tag set
//! before every member is deleted.

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheKey};
use cache_redis::RedisTier;
use cache_redis::test_support::{RedisCluster, RedisServer};

use super::common::{eventually, raw, remote_only};
use super::{SERIAL, WITHIN, bounded, opts};

const TAGGED: u64 = 200;

/// Writes `TAGGED` keys tagged "t"; their remote keys.
async fn write_tagged(cache: &Cache) -> Vec<String> {
    let mut remote_keys = Vec::new();
    for i in 0..TAGGED {
        let key = CacheKey::new("tagged", &i);
        cache.set(&key, &i, &opts().tags(["t"])).await;
        remote_keys.push(cache.remote_key(&key));
    }
    remote_keys
}

/// The node owning `key`'s slot (the others answer `MOVED`).
fn owner(cluster: &RedisCluster, key: &str) -> usize {
    (0..3)
        .find(|&i| {
            let reply = cluster.nodes()[i].query(&["EXISTS", key]).unwrap();
            !reply.starts_with('-')
        })
        .expect("one node owns every slot")
}

/// How many of `keys` exist, asking each key's owner.
async fn existing(cluster: &Arc<RedisCluster>, keys: &[String]) -> usize {
    let (cluster, keys) = (Arc::clone(cluster), keys.to_vec());
    tokio::task::spawn_blocking(move || {
        keys.iter()
            .filter(|key| {
                let node = &cluster.nodes()[owner(&cluster, key)];
                node.query(&["EXISTS", key]).unwrap() == "1"
            })
            .count()
    })
    .await
    .unwrap()
}

/// The size of the tag set on `node` (its owner: asked directly, so a frozen node elsewhere
/// is never queried).
fn members(cluster: &RedisCluster, node: usize, tag_key: &str) -> usize {
    let reply = cluster.nodes()[node].query(&["SCARD", tag_key]).unwrap();
    reply.trim().parse().unwrap()
}

/// Until the queue is empty and `replayed` passed `before`.
async fn replayed(tier: &RedisTier, before: u64) {
    eventually(
        WITHIN * 5,
        "the queued tag invalidation is replayed",
        || async { tier.health().queued_operations == 0 && tier.stats().replayed > before },
    )
    .await;
}

/// A 3-node Cluster with 200 keys tagged "t" across slots.
///
/// 1. The node holding the tag set is frozen: the invalidation's read of the set is delivered
///    but its reply lost. The invalidation is queued; after resume the replay deletes every
///    member, and the set still lists them all.
/// 2. A node holding some members (not the set) is frozen: the `UNLINK` of its slots loses
///    its reply. While it is frozen the set still lists every member; the replay deletes what
///    is left.
///
/// The old design read and deleted the set in one script (`TAKE_TAG`) before unlinking the
/// members: in case 1 the frozen script ran on resume, the set was gone and the replay found
/// nothing, so every member outlived the invalidation until its TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_tag_invalidation_with_a_lost_reply_is_replayed_and_deletes_every_member() {
    let _serial = SERIAL.lock().await;
    let cluster = Arc::new(
        tokio::task::spawn_blocking(RedisCluster::start)
            .await
            .unwrap(),
    );
    let tier = RedisTier::cluster_builder(cluster.urls())
        .command_timeout(Duration::from_millis(300))
        .breaker_cooldown(Duration::from_millis(300))
        .connect()
        .await
        .expect("connect to the test cluster");
    let cache = remote_only(&tier);
    let tag_key = format!("{}{}", tier.config().tag_prefix, cache.remote_tag("t"));
    let set_owner = owner(&cluster, &tag_key);

    // 1. The reply of the read of the tag set is lost.
    let remote_keys = write_tagged(&cache).await;
    assert_eq!(existing(&cluster, &remote_keys).await, TAGGED as usize);
    assert_eq!(members(&cluster, set_owner, &tag_key), TAGGED as usize);
    let before = tier.stats().replayed;
    cluster.nodes()[set_owner].pause();
    bounded(
        WITHIN * 3,
        "invalidate_tag returns",
        cache.invalidate_tag("t"),
    )
    .await;
    let queued = tier.health().queued_operations;
    cluster.nodes()[set_owner].resume();
    assert!(queued >= 1, "the failed tag invalidation was queued");
    replayed(&tier, before).await;
    assert_eq!(
        existing(&cluster, &remote_keys).await,
        0,
        "every member is deleted by the replay"
    );
    assert_eq!(
        members(&cluster, set_owner, &tag_key),
        TAGGED as usize,
        "the set keeps its members"
    );

    // 2. The reply of the UNLINK on a node holding members is lost.
    let remote_keys = write_tagged(&cache).await;
    let frozen = (0..3)
        .find(|&i| i != set_owner && remote_keys.iter().any(|k| owner(&cluster, k) == i))
        .expect("members live on another node than the set");
    let before = tier.stats().replayed;
    cluster.nodes()[frozen].pause();
    bounded(
        WITHIN * 3,
        "invalidate_tag returns",
        cache.invalidate_tag("t"),
    )
    .await;
    let queued = tier.health().queued_operations;
    // No member left the set although some were deleted: the replay will find them all.
    let listed = members(&cluster, set_owner, &tag_key);
    cluster.nodes()[frozen].resume();
    assert!(queued >= 1, "the failed tag invalidation was queued");
    assert_eq!(listed, TAGGED as usize, "no member left the set early");
    replayed(&tier, before).await;
    assert_eq!(existing(&cluster, &remote_keys).await, 0);
    // Another node (no local tier) reads nothing.
    let other = remote_only(
        &RedisTier::cluster_builder(cluster.urls())
            .connect()
            .await
            .unwrap(),
    );
    for i in 0..TAGGED {
        assert_eq!(other.get::<u64>(&CacheKey::new("tagged", &i)).await, None);
    }
}

/// Single node: the tag drop is one script. Redis is frozen while it is in flight; the caller
/// times out and queues it; on resume the frozen script runs, then the replay runs it again
/// on an empty set — harmlessly (no error reply), and every member is gone.
///
/// The old design used the same script, so it passed this too: it pins that a lost reply of
/// the atomic drop is replayed idempotently, which the Cluster change above relies on too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_node_tag_drop_with_a_lost_reply_is_replayed_idempotently() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let tier = RedisTier::builder(&server.url())
        .command_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    let cache = remote_only(&tier);
    // Loads the drop script, so the frozen call is an EVALSHA that runs on resume.
    cache.invalidate_tag("warm").await;
    let remote_keys = write_tagged(&cache).await;
    let tag_key = format!("{}{}", tier.config().tag_prefix, cache.remote_tag("t"));
    let mut conn = raw(&server.url()).await;
    let count = |keys: Vec<String>| {
        let mut cmd = redis::cmd("EXISTS");
        cmd.arg(keys);
        cmd
    };
    let all: i64 = count(remote_keys.clone())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(all, TAGGED as i64);

    let before = tier.stats().replayed;
    server.pause();
    bounded(WITHIN, "invalidate_tag returns", cache.invalidate_tag("t")).await;
    let queued = tier.health().queued_operations;
    server.resume();
    assert!(queued >= 1, "the failed tag drop was queued");
    replayed(&tier, before).await;
    let left: i64 = count(remote_keys.clone())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0, "every member is gone");
    let set: i64 = count(vec![tag_key]).query_async(&mut conn).await.unwrap();
    assert_eq!(set, 0, "and the set");
    assert_eq!(tier.stats().error_replies, 0, "{:?}", tier.stats());
    for i in 0..TAGGED {
        assert_eq!(cache.get::<u64>(&CacheKey::new("tagged", &i)).await, None);
    }
}
