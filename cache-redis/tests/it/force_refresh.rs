//! `Options::force_refresh` through Redis: the forced value replaces what Redis holds and
//! reaches other nodes, and a load that held the key's lease before the forced call cannot
//! put its older value back (its fill is fenced out by the forced write). Single node and a
//! 3-node Cluster.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use cache_core::{CacheKey, Options};
use cache_redis::RedisTier;
use cache_redis::test_support::{RedisCluster, RedisServer};
use common::{Calls, cluster_tier, eventually, node, tier};
use tokio::sync::Notify;

const WITHIN: Duration = Duration::from_secs(5);

fn forced() -> Options {
    Options::new().force_refresh(true)
}

#[tokio::test]
async fn a_forced_value_replaces_the_redis_entry_and_reaches_other_nodes() {
    let server = RedisServer::start();
    forced_value_replaces_the_entry(async || tier(&server.url()).await).await;
}

#[tokio::test]
async fn on_a_cluster_a_forced_value_replaces_the_entry_and_reaches_other_nodes() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    forced_value_replaces_the_entry(async || cluster_tier(&urls).await).await;
}

#[tokio::test]
async fn a_load_holding_the_lease_before_a_forced_call_cannot_overwrite_its_value() {
    let server = RedisServer::start();
    older_load_cannot_overwrite(async || tier(&server.url()).await).await;
}

#[tokio::test]
async fn on_a_cluster_a_load_holding_the_lease_before_a_forced_call_cannot_overwrite_it() {
    let cluster = RedisCluster::start();
    let urls = cluster.urls();
    older_load_cannot_overwrite(async || cluster_tier(&urls).await).await;
}

async fn forced_value_replaces_the_entry(connect: impl AsyncFn() -> RedisTier) {
    let (a, b) = (node(&connect().await), node(&connect().await));
    let key = CacheKey::new("rate", &1);
    let old = || async { Ok::<_, String>("old".to_string()) };
    assert_eq!(
        a.get_or_load(&key, &Options::new(), old).await,
        Ok("old".into())
    );
    assert_eq!(b.get::<String>(&key).await.as_deref(), Some("old"));

    let calls = Calls::default();
    let new = || async {
        calls.hit();
        Ok::<_, String>("new".to_string())
    };
    assert_eq!(a.get_or_load(&key, &forced(), new).await, Ok("new".into()));
    assert_eq!(calls.get(), 1);
    eventually(
        WITHIN,
        "b drops its old copy and reads the forced value",
        || async { b.get::<String>(&key).await.as_deref() == Some("new") },
    )
    .await;
    let fresh_node = node(&connect().await);
    assert_eq!(fresh_node.get::<String>(&key).await.as_deref(), Some("new"));
    assert_eq!(a.stats().errors + b.stats().errors, 0);
}

async fn older_load_cannot_overwrite(connect: impl AsyncFn() -> RedisTier) {
    let a = node(&connect().await);
    let key = CacheKey::new("price", &1);
    let (started, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let older = {
        let (a, key, started, release) = (a.clone(), key.clone(), started.clone(), release.clone());
        tokio::spawn(async move {
            let load = || async {
                started.notify_one();
                release.notified().await;
                Ok::<_, String>("older".to_string())
            };
            a.get_or_load(&key, &Options::new(), load).await
        })
    };
    started.notified().await;
    let forced_value = || async { Ok::<_, String>("forced".to_string()) };
    assert_eq!(
        a.get_or_load(&key, &forced(), forced_value).await,
        Ok("forced".into())
    );
    release.notify_one();
    assert_eq!(older.await.unwrap(), Ok("older".to_string()));

    let fresh_node = node(&connect().await);
    assert_eq!(
        fresh_node.get::<String>(&key).await.as_deref(),
        Some("forced"),
        "Redis keeps the forced value"
    );
    assert_eq!(a.get::<String>(&key).await.as_deref(), Some("forced"));
    assert_eq!(a.stats().errors, 0);
}
