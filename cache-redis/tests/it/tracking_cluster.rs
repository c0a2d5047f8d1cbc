//! Key tracking on a three-node Cluster: one tracking connection per primary, outside
//! changes on every primary's slots reported, and a lost primary handled like a gap.

use std::time::Duration;

use cache_core::CacheKey;
use cache_redis::test_support::RedisCluster;
use cache_redis::{Invalidation, RedisTier};

use crate::common::eventually;
use crate::tracking::{WITHIN, node_with, redis_cli, remote};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_outside_deletes_on_every_primary_drop_the_local_copies() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    let node = node_with(RedisTier::cluster_builder(&urls), Invalidation::Tracking).await;
    let (tier, cache) = (&node.tier, &node.cache);
    for server in cluster.nodes() {
        let clients = server.query(&["CLIENT", "LIST"]).unwrap();
        assert!(
            clients.contains("name=cache-tracking"),
            "a tracking connection on {}",
            server.port()
        );
    }
    let keys: Vec<CacheKey> = (0..12).map(|i| CacheKey::new("item", &i)).collect();
    for key in &keys {
        node.cached_locally(key, 1).await;
    }
    let holding = cluster
        .nodes()
        .iter()
        .filter(|s| s.query(&["DBSIZE"]).unwrap().trim_start_matches(':').trim() != "0")
        .count();
    assert!(holding >= 2, "the keys span several primaries' slots");
    // `redis-cli -c` follows MOVED to the slot's owner, as any Cluster client would.
    for key in &keys {
        redis_cli(cluster.nodes()[0].port(), &["DEL", &remote(key)], b"");
    }
    eventually(WITHIN, "every key dropped on the node", || async {
        for key in &keys {
            if cache.get::<u32>(key).await.is_some() {
                return false;
            }
        }
        true
    })
    .await;
    assert!(tier.stats().tracking_invalidations >= 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_a_lost_primary_clears_the_local_tier_until_every_primary_tracks_again() {
    let cluster = RedisCluster::start();
    let node = node_with(
        RedisTier::cluster_builder(cluster.urls()),
        Invalidation::Tracking,
    )
    .await;
    let (tier, cache) = (&node.tier, &node.cache);
    node.cached_locally(&CacheKey::new("item", &1), 1).await;
    let before = tier.stats();
    let victim = &cluster.nodes()[2];
    victim.kill();
    // Changes on the lost primary's slots go unreported: the local tier is trusted no
    // longer than `backplane_trust` (500 ms here), by the same watchdog as the backplane's.
    eventually(WITHIN, "cleared while a primary is untracked", || async {
        tier.stats().tracking_untrusted_clears > before.tracking_untrusted_clears
    })
    .await;
    assert_eq!(tier.health().tracking_connected, Some(false));
    let local = cache.local().unwrap();
    local.run_pending_tasks();
    assert_eq!(local.entry_count(), 0);
    victim.restart();
    eventually(
        Duration::from_secs(20),
        "tracking on every primary again",
        || async { tier.health().tracking_connected == Some(true) },
    )
    .await;
    assert!(tier.stats().tracking_subscriptions > before.tracking_subscriptions);
    let clients = victim.query(&["CLIENT", "LIST"]).unwrap();
    assert!(
        clients.contains("name=cache-tracking"),
        "the restarted primary is tracked"
    );
}
