//! With Redis: the tier's health, remote entries in the key inspector, and flag changes that
//! reach every node through the shared flag hash.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use cache_core::{CacheKey, FlagMode, FlagSource, Flags, Options};
use cache_redis::test_support::RedisServer;
use cache_redis::test_support::fixtures::{eventually, node, tier};

use crate::common::{admin, call, mount};

#[tokio::test]
async fn health_reports_the_redis_breaker_and_backplane() {
    let server = RedisServer::start();
    let redis = tier(&server.url()).await;
    let app = mount(admin(node(&redis)).health_source(redis.clone()));
    let (status, health) = call(&app, Method::GET, "/health", None).await;
    assert_eq!(status, StatusCode::OK);
    let section = &health["sources"][0];
    assert_eq!(section["name"], "redis");
    assert_eq!(section["details"]["breaker"], "up");
    assert_eq!(section["details"]["backplane_connected"], true);
    assert_eq!(health["ok"], true, "{health}");
    assert_eq!(health["remote_configured"], true);
}

#[tokio::test]
async fn the_key_inspector_reads_the_remote_entry() {
    let server = RedisServer::start();
    let cache = node(&tier(&server.url()).await);
    let key = CacheKey::new("users", &7);
    cache
        .set(
            &key,
            &"Ada".to_string(),
            &Options::new().ttl(Duration::from_secs(60)),
        )
        .await;
    let app = mount(admin(cache));
    let (status, found) = call(&app, Method::GET, "/keys/users:7", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["remote"]["status"], "entry", "{found}");
    assert_eq!(found["remote"]["state"], "fresh");
    assert!(found["remote"]["size_bytes"].as_u64().unwrap() > 0);
    assert!(
        found["tiers"]
            .as_array()
            .unwrap()
            .contains(&"remote".into())
    );
}

#[tokio::test]
async fn a_flag_change_is_published_to_every_node() {
    let server = RedisServer::start();
    let (this, other) = (tier(&server.url()).await, tier(&server.url()).await);
    let hash = "test:flags";
    let other_flags = Flags::new();
    other
        .flag_source(hash)
        .attach(other_flags.clone())
        .await
        .unwrap();
    let app = mount(admin(node(&this)).flag_publisher(this.flag_source(hash)));

    let (status, body) = call(
        &app,
        Method::PUT,
        "/flags",
        Some(r#"{"spec":"users=shadow"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    eventually(
        Duration::from_secs(5),
        "the other node applies the change",
        || {
            let flags = other_flags.clone();
            async move { flags.mode("users") == FlagMode::Shadow }
        },
    )
    .await;
}
