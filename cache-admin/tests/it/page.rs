//! The dashboard page: served at the mount root, public, self-contained, within its budget.

use axum::http::{Method, StatusCode, header};
use cache_core::Cache;

use crate::common::{admin, mount, send};

#[tokio::test]
async fn the_page_is_served_at_the_mount_point_without_a_token() {
    let app = mount(admin(Cache::builder().build()));
    // axum 0.8 matches a nested router's `/` at the prefix itself (`/admin/cache`).
    let (status, headers, body) = send(&app, Method::GET, "", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(body, cache_admin::page_html());
    assert!(body.contains("id=\"chart-ratio\"") && body.contains("id=\"flags\""));
}

#[tokio::test]
async fn the_whole_page_fits_the_budget() {
    let page = cache_admin::page_html();
    assert!(
        page.len() <= cache_admin::PAGE_BUDGET_BYTES
            && cache_admin::PAGE_BUDGET_BYTES == 150 * 1024,
        "the page weighs {} bytes",
        page.len()
    );
    // Everything is inline: placeholders all filled, uPlot and its license included.
    assert!(!page.contains("/*UPLOT") && !page.contains("/*DASHBOARD"));
    assert!(page.contains("uPlot") && page.contains("Permission is hereby granted"));
}

#[tokio::test]
async fn the_page_loads_nothing_from_elsewhere_and_the_browser_is_told_so() {
    let app = mount(admin(Cache::builder().build()));
    let (_, headers, page) = send(&app, Method::GET, "", None, None).await;
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
        "src=\"//",
        "<link",
    ] {
        assert!(!page.contains(external), "the page references {external}…");
    }
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"));
    assert!(policy.contains("frame-ancestors 'none'"));
}
