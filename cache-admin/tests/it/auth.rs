//! Every data route asks the authorization check; the page does not (it holds no data).

use axum::http::{Method, StatusCode};
use cache_core::{Cache, FlagMode};

use crate::common::{TOKEN, admin, mount, send};

const DATA_ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("GET", "/stats", None),
    ("GET", "/flags", None),
    ("PUT", "/flags", Some(r#"{"spec":"users=off"}"#)),
    ("GET", "/keys/users:1", None),
    ("POST", "/invalidate", Some(r#"{"tag":"t"}"#)),
    ("GET", "/health", None),
];

#[tokio::test]
async fn every_data_route_answers_401_json_without_the_token_and_changes_nothing() {
    let cache = Cache::builder().build();
    let app = mount(admin(cache.clone()));
    let wrong = format!("{TOKEN}x");
    for (method, path, body) in DATA_ROUTES {
        for token in [None, Some("nope"), Some(wrong.as_str()), Some("")] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let (status, _, text) = send(&app, method.clone(), path, token, *body).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {token:?}"
            );
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(
                json["error"].as_str().unwrap().contains("Bearer"),
                "{method} {path}: {json}"
            );
        }
    }
    assert_eq!(cache.flags().mode("users"), FlagMode::On);
}

#[tokio::test]
async fn the_right_token_opens_every_data_route() {
    let app = mount(admin(Cache::builder().build()));
    for (method, path, body) in DATA_ROUTES {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let (status, _, text) = send(&app, method.clone(), path, Some(TOKEN), *body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {text}");
    }
}

#[tokio::test]
async fn the_check_sees_the_whole_request_head() {
    // A check on something other than a bearer token: a header set by a trusted proxy.
    let admin = cache_admin::Admin::new(Cache::builder().build(), |parts| {
        parts.method == Method::GET && parts.headers.contains_key("x-internal")
    });
    let app = mount(admin);
    let (status, _, _) = send(&app, Method::GET, "/stats", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let request = axum::http::Request::get(format!("{}/stats", crate::common::PREFIX))
        .header("x-internal", "1")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
