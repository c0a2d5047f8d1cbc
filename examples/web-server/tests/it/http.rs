//! HTTP-level tests against a server started on a free loopback port with its own SQLite file.

use crate::common;

use reqwest::StatusCode;
use serde_json::Value;

use common::{TOKEN, start, user_token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_list_has_the_expected_shape_and_is_cached() {
    let server = start(None).await;
    let first = server.get("/chains/1/stores").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().contains_key("etag"));
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["chain_id"], 1);
    assert_eq!(body["count"], 60);
    let store = &body["stores"][0];
    for field in [
        "id",
        "name",
        "address",
        "phone",
        "latitude",
        "longitude",
        "opening_hours",
        "brands",
        "services",
        "updated_at",
    ] {
        assert!(!store[field].is_null(), "store lacks {field}: {store}");
    }
    assert!(!store["brands"].as_array().unwrap().is_empty());
    for _ in 0..3 {
        assert_eq!(
            server.get("/chains/1/stores").await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(server.loads("chains").await, 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_none_match_gets_304_without_loading_the_list() {
    let server = start(None).await;
    let etag = server.get("/chains/2/stores").await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    server.get("/admin/flags").await; // unrelated request
    let loads_before = server.loads("chains").await;
    let not_modified = server
        .client
        .get(format!("{}/chains/2/stores", server.base))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.headers()["etag"].to_str().unwrap(), etag);
    assert!(not_modified.bytes().await.unwrap().is_empty());
    assert_eq!(server.loads("chains").await, loads_before);
    let stale_tag = server
        .client
        .get(format!("{}/chains/2/stores", server.base))
        .header("If-None-Match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale_tag.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_shows_on_the_next_request_without_explicit_invalidation() {
    let server = start(None).await;
    let before = server.get("/chains/1/stores").await;
    let etag_before = before.headers()["etag"].clone();
    let _ = before.bytes().await;
    let store: Value = server.get("/stores/3").await.json().await.unwrap();
    assert_eq!(store["store"]["id"], 3);
    assert_eq!(store["chain_name"], "Optics Chain 1");

    let patched = server
        .client
        .patch(format!("{}/stores/3", server.base))
        .bearer_auth(user_token(1))
        .json(&serde_json::json!({ "name": "Renamed Store" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["name"], "Renamed Store");
    assert!(patched["updated_at"].as_i64() > store["store"]["updated_at"].as_i64());

    let shown: Value = server.get("/stores/3").await.json().await.unwrap();
    assert_eq!(shown["store"]["name"], "Renamed Store");
    let after = server.get("/chains/1/stores").await;
    assert_ne!(after.headers()["etag"], etag_before);
    let list: Value = after.json().await.unwrap();
    assert!(
        list["stores"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "Renamed Store")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_flags_need_the_token_and_switch_caching_live() {
    let server = start(None).await;
    let url = format!("{}/admin/flags", server.base);
    assert_eq!(
        server.client.get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong = server
        .client
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "missing or invalid bearer token");
    let unauthorized_put = server
        .client
        .put(&url)
        .json(&serde_json::json!({"spec": "chains=off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized_put.status(), StatusCode::UNAUTHORIZED);

    let _ = server.get("/chains/3/stores").await.bytes().await;
    let _ = server.get("/chains/3/stores").await.bytes().await;
    assert_eq!(server.loads("chains").await, 1.0);

    let put = server
        .client
        .put(&url)
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"spec": "chains=off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let view: Value = put.json().await.unwrap();
    assert!(
        view["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "chains" && f["mode"] == "off" && f["layer"] == "live")
    );
    let bypassed_before = server
        .metric(
            "cache_requests_total",
            &[("cache_name", "chains"), ("cache_result", "bypass")],
        )
        .await;
    for _ in 0..3 {
        assert_eq!(
            server.get("/chains/3/stores").await.status(),
            StatusCode::OK
        );
    }
    let bypassed = server
        .metric(
            "cache_requests_total",
            &[("cache_name", "chains"), ("cache_result", "bypass")],
        )
        .await;
    assert_eq!(
        bypassed - bypassed_before,
        3.0,
        "flag off: the loader runs on every request"
    );

    let bad = server
        .client
        .put(&url)
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"spec": "chains=maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("chains=maybe"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_likes_all_reach_the_database() {
    let server = start(None).await;
    let before: Value = server.get("/posts/2").await.json().await.unwrap();
    let likes_before = before["likes"].as_i64().unwrap();
    let mut tasks = Vec::new();
    let token = user_token(1);
    for _ in 0..1_000 {
        tasks.push(server.spawn_like(2, &token));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), StatusCode::OK);
    }
    let after: Value = server.get("/posts/2").await.json().await.unwrap();
    assert_eq!(after["likes"].as_i64().unwrap(), likes_before + 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_json_errors_and_never_a_panic() {
    let server = start(None).await;
    let cases = [
        (
            "/chains/999/stores",
            StatusCode::NOT_FOUND,
            "chain not found",
        ),
        (
            "/chains/abc/stores",
            StatusCode::BAD_REQUEST,
            "the id in the path must be an integer",
        ),
        ("/stores/999999", StatusCode::NOT_FOUND, "store not found"),
        ("/posts/999", StatusCode::NOT_FOUND, "post not found"),
        ("/no/such/route", StatusCode::NOT_FOUND, "route not found"),
    ];
    for (path, status, message) in cases {
        let response = server.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], message, "{path}");
    }
    let malformed = server
        .client
        .patch(format!("{}/stores/1", server.base))
        .bearer_auth(user_token(1))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: Value = malformed.json().await.unwrap();
    assert!(body["error"].is_string());
    let like_missing = server
        .client
        .post(format!("{}/posts/999/like", server.base))
        .bearer_auth(user_token(1))
        .send()
        .await
        .unwrap();
    assert_eq!(like_missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommendations_are_per_user_and_repeat_lookups_hit_the_request_tier() {
    let server = start(None).await;
    let get = |user: i64| {
        let (client, url) = (
            server.client.clone(),
            format!("{}/me/recommendations", server.base),
        );
        async move {
            client
                .get(url)
                .bearer_auth(user_token(user))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let alice = get(1).await;
    let bob = get(2).await;
    assert_eq!(alice["user_id"], 1);
    assert_eq!(bob["user_id"], 2);
    assert_ne!(
        alice["recommendations"], bob["recommendations"],
        "users never see each other's data"
    );
    let request_hits = server
        .metric(
            "cache_requests_total",
            &[
                ("cache_name", "chain_name"),
                ("cache_tier", "request"),
                ("cache_result", "hit"),
            ],
        )
        .await;
    // Five recommendations per user, all from one chain: the first chain-name lookup of each
    // request goes to the local tier, the other four hit the request tier.
    assert_eq!(request_hits, 8.0);
}
