//! A router mounted like a service would mount it, and one-request helpers.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use cache_admin::{Admin, BearerToken};
use cache_core::Cache;
use cache_core::metrics::prometheus::PrometheusMetrics;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const TOKEN: &str = "test-admin-token";
pub const PREFIX: &str = "/admin/cache";

/// `admin`'s routes nested under [`PREFIX`] of an otherwise empty app.
pub fn mount(admin: Admin) -> Router {
    Router::new().nest(PREFIX, cache_admin::router(admin))
}

/// An admin for `cache` guarded by [`TOKEN`].
pub fn admin(cache: Cache) -> Admin {
    let token = BearerToken::new(TOKEN);
    Admin::new(cache, move |parts| token.accepts(&parts.headers))
}

/// A cache with a local tier whose instruments report to the returned Prometheus registry.
pub fn metered_cache() -> (Cache, PrometheusMetrics) {
    let metrics = PrometheusMetrics::new().unwrap();
    let cache = Cache::builder()
        .namespace("test")
        .local(cache_core::LocalTier::new(1 << 20))
        .meter(metrics.meter())
        .build();
    (cache, metrics)
}

/// The raw response to one request.
pub async fn send(
    app: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{PREFIX}{path}"));
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Body::from(body.unwrap_or_default().to_owned()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

/// The status and JSON body of an authorized request.
pub async fn call(
    app: &Router,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let (status, _, text) = send(app, method, path, Some(TOKEN), body).await;
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{path} answered {status} with non-JSON {text:?}: {e}"));
    (status, json)
}

/// `text` with every byte outside `A-Za-z0-9-._~` percent-encoded, as `encodeURIComponent`
/// (near enough) does in the page.
pub fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
