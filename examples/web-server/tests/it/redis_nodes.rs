//! Two servers sharing one database and one Redis (spawned on a free loopback port), as two
//! nodes behind a load balancer would: flags and invalidations travel between them.

use crate::common;

use std::time::{Duration, Instant};

use cache_redis::test_support::RedisServer;
use reqwest::StatusCode;
use serde_json::Value;

use common::{TOKEN, start_with, user_token};

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not within 2 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_values_flags_and_invalidations_through_redis() {
    let redis = RedisServer::start();
    let a = start_with(None, Some(redis.url()), None).await;
    let b = start_with(None, Some(redis.url()), Some(a.db_file.clone())).await;

    let health: Value = a.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["redis"]["state"], "up");
    assert_eq!(health["redis"]["backplane_connected"], true);

    // A value loaded by node a is a Redis hit on node b: one load in total.
    assert_eq!(a.get("/chains/1/stores").await.status(), StatusCode::OK);
    assert_eq!(b.get("/chains/1/stores").await.status(), StatusCode::OK);
    assert_eq!(a.loads("chains").await + b.loads("chains").await, 1.0);
    let remote_hits = b
        .metric(
            "cache_requests_total",
            &[
                ("cache_name", "chains"),
                ("cache_tier", "remote"),
                ("cache_result", "hit"),
            ],
        )
        .await;
    assert_eq!(remote_hits, 1.0);

    // A like on node a evicts node b's cached post.
    let before: Value = b.get("/posts/1").await.json().await.unwrap();
    let liked = a
        .client
        .post(format!("{}/posts/1/like", a.base))
        .bearer_auth(user_token(1))
        .send()
        .await
        .unwrap();
    assert_eq!(liked.status(), StatusCode::OK);
    let expected = before["likes"].as_i64().unwrap() + 1;
    eventually("node b shows the new like count", async || {
        let post: Value = b.get("/posts/1").await.json().await.unwrap();
        post["likes"].as_i64() == Some(expected)
    })
    .await;

    // A flag changed through node a's admin API switches node b too.
    let put = a
        .client
        .put(format!("{}/admin/flags", a.base))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "spec": "chains=off" }))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    eventually("node b sees chains=off", async || {
        let flags = b.admin_json("/admin/flags").await;
        flags["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "chains" && f["mode"] == "off")
    })
    .await;
    let bypass = [("cache_name", "chains"), ("cache_result", "bypass")];
    let before = b.metric("cache_requests_total", &bypass).await;
    let _ = b.get("/chains/1/stores").await.bytes().await;
    assert_eq!(
        b.metric("cache_requests_total", &bypass).await - before,
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_likes_on_two_nodes_all_reach_the_database_after_flush() {
    let redis = RedisServer::start();
    let a = start_with(None, Some(redis.url()), None).await;
    let b = start_with(None, Some(redis.url()), Some(a.db_file.clone())).await;
    let db = web_server::db::Db::open(
        &format!("sqlite://{}?mode=rwc", a.db_file.display()),
        web_server::db::SeedSize::FULL,
    )
    .await
    .unwrap();
    let in_db = |db: web_server::db::Db| async move { db.post(2).await.unwrap().unwrap().likes };
    let before = in_db(db.clone()).await;

    let mut tasks = Vec::new();
    // One token for both nodes: they share the signing secret.
    let token = user_token(1);
    for i in 0..1_000 {
        let node = if i % 2 == 0 { &a } else { &b };
        tasks.push(node.spawn_like(2, &token));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), StatusCode::OK);
    }
    // Readers see database + pending at once, whatever has been flushed so far. A read that
    // overlaps a flush (its cached post read before the batch's invalidation, its pending read
    // after the batch's acknowledgement) can be one batch short; the next read is exact. Known
    // window, see likes.rs.
    let mut shown = 0;
    for _ in 0..3 {
        let post: Value = b.get("/posts/2").await.json().await.unwrap();
        shown = post["likes"].as_i64().unwrap();
        if shown == before + 1_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(shown, before + 1_000);

    let flushed = a
        .client
        .post(format!("{}/admin/flush", a.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(flushed.status(), StatusCode::OK);
    assert_eq!(
        in_db(db).await,
        before + 1_000,
        "every like is in the database"
    );
    let shown: Value = a.get("/posts/2").await.json().await.unwrap();
    assert!(shown["likes"].as_i64().unwrap() >= before + 1_000);
}
