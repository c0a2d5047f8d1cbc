//! The landing page and the cache dashboard's API as the example mounts them, on the embedded
//! default and with Redis (two nodes sharing it).

use crate::common;

use std::time::{Duration, Instant};

use cache_redis::test_support::RedisServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{Server, TOKEN, start, start_with};

async fn admin_get(server: &Server, path: &str) -> (StatusCode, Value) {
    let response = server
        .client
        .get(format!("{}/admin/cache{path}", server.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn cache_named<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cache {name} in {stats}"))
}

#[tokio::test]
async fn the_landing_page_links_the_dashboard_and_the_routes() {
    let server = start(None).await;
    let response = server.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text().await.unwrap();
    for link in [
        "href=\"/admin/cache\"",
        "/chains/{id}/stores",
        "/metrics",
        "/admin/flags",
    ] {
        assert!(page.contains(link), "the landing page lacks {link}");
    }
    let dashboard = server.get("/admin/cache").await;
    assert_eq!(dashboard.status(), StatusCode::OK);
    assert!(dashboard.text().await.unwrap().contains("chart-ratio"));
    // With the trailing slash too (reqwest follows the redirect).
    let slashed = server.get("/admin/cache/").await;
    assert_eq!(
        (slashed.status(), slashed.url().path()),
        (StatusCode::OK, "/admin/cache")
    );
}

#[tokio::test]
async fn the_dashboard_api_reports_the_example_caches_on_the_embedded_default() {
    let server = start(None).await;
    for _ in 0..3 {
        assert_eq!(
            server.get("/chains/1/stores").await.status(),
            StatusCode::OK
        );
    }
    let unauthorized = server.get("/admin/cache/stats").await;
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);

    let (status, stats) = admin_get(&server, "/stats").await;
    assert_eq!(status, StatusCode::OK);
    let chains = cache_named(&stats, "chains");
    assert_eq!(chains["loads"].as_f64(), Some(server.loads("chains").await));
    assert!(
        chains["tiers"]["local"]["hit"].as_u64().unwrap() >= 1,
        "{chains}"
    );
    assert_eq!(stats["remote_configured"], false);
    assert!(stats["local"]["bytes"].as_u64().unwrap() > 0);

    let (status, health) = admin_get(&server, "/health").await;
    assert_eq!(
        (status, health["sources"].clone()),
        (StatusCode::OK, json!([]))
    );

    // The dashboard's flag switch and the older /admin/flags route change the same table.
    let changed = server
        .client
        .put(format!("{}/admin/cache/flags", server.base))
        .bearer_auth(TOKEN)
        .json(&json!({ "spec": "chains=off" }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let table = server.admin_json("/admin/flags").await;
    assert!(
        table["flags"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "chains", "mode": "off", "layer": "live"}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_the_dashboard_shows_its_health_and_flag_changes_reach_every_node() {
    let redis = RedisServer::start();
    let a = start_with(None, Some(redis.url()), None).await;
    let b = start_with(None, Some(redis.url()), Some(a.db_file.clone())).await;
    assert_eq!(a.get("/posts/2").await.status(), StatusCode::OK);

    let (_, health) = admin_get(&a, "/health").await;
    let names: Vec<&str> = health["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["redis", "likes write-back"]);
    assert_eq!(health["sources"][0]["details"]["breaker"], "up");
    assert_eq!(health["ok"], true, "{health}");

    let key = web_server::cached::post_cache_key(&2);
    let (status, found) = admin_get(&a, &format!("/keys/{}", key.as_str())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["tiers"], json!(["local", "remote"]), "{found}");

    let changed = a
        .client
        .put(format!("{}/admin/cache/flags", a.base))
        .bearer_auth(TOKEN)
        .json(&json!({ "spec": "stores=shadow" }))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let started = Instant::now();
    loop {
        let (_, stats) = admin_get(&b, "/flags").await;
        if stats["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "stores" && f["mode"] == "shadow")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "node b never saw the change: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
