//! The dashboard page: one HTML document with its styles, script and the vendored uPlot chart
//! library inline, so it makes no request but to the data routes beside it.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;

/// The most the page may weigh, in bytes (it is asserted in the tests).
pub const PAGE_BUDGET_BYTES: usize = 150 * 1024;

const TEMPLATE: &str = include_str!("../assets/index.html");
const STYLE: &str = include_str!("../assets/dashboard.css");
const SCRIPT: &str = include_str!("../assets/dashboard.js");
/// uPlot 1.6.32 from the npm registry (`dist/`), MIT licensed (`assets/uPlot.LICENSE`).
const UPLOT_STYLE: &str = include_str!("../assets/uPlot.min.css");
const UPLOT_SCRIPT: &str = include_str!("../assets/uPlot.iife.min.js");
const UPLOT_LICENSE: &str = include_str!("../assets/uPlot.LICENSE");

static PAGE: LazyLock<String> = LazyLock::new(|| {
    TEMPLATE
        .replace("/*UPLOT_CSS*/", UPLOT_STYLE)
        .replace("/*DASHBOARD_CSS*/", STYLE)
        .replace("/*UPLOT_LICENSE*/", UPLOT_LICENSE)
        .replace("/*UPLOT_JS*/", UPLOT_SCRIPT)
        .replace("/*DASHBOARD_JS*/", SCRIPT)
});

/// The whole page as served.
///
/// ```
/// let page = cache_admin::page_html();
/// assert!(page.len() <= cache_admin::PAGE_BUDGET_BYTES);
/// assert!(page.contains("uPlot"));
/// ```
pub fn page_html() -> &'static str {
    &PAGE
}

/// Only inline code and same-origin requests: a browser refuses anything else, so the page
/// cannot leak data to (or load code from) another origin, and cannot be framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'";

pub(crate) async fn serve() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::CACHE_CONTROL, "no-cache"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        page_html(),
    )
}
