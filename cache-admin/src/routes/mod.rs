//! The router: the page, then the data routes behind the authorization check.

mod flags;
mod health;
mod invalidate;
mod keys;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::admin::Admin;
use crate::error::AdminError;
use crate::page;
use crate::stats::StatsReport;

/// The admin routes for `admin`, to [`nest`](Router::nest) under a prefix of your choice
/// (the page finds the data routes relative to its own address).
///
/// The page (`GET /`, which axum serves at the prefix itself: `/admin/cache`) is public: it
/// holds no data and asks for the token itself. Every other route answers `401` unless
/// `admin`'s authorization check accepts the request.
///
/// ```
/// use axum::Router;
/// use cache_admin::{Admin, BearerToken};
///
/// # fn app(cache: cache_core::Cache) -> Router {
/// let token = BearerToken::new(&std::env::var("ADMIN_TOKEN").unwrap_or_default());
/// let admin = Admin::new(cache, move |parts| token.accepts(&parts.headers));
/// Router::new().nest("/admin/cache", cache_admin::router(admin))
/// # }
/// ```
pub fn router<S: Clone + Send + Sync + 'static>(admin: Admin) -> Router<S> {
    let data = Router::new()
        .route("/stats", get(stats))
        .route("/flags", get(flags::show).put(flags::change))
        .route("/keys/{*key}", get(keys::inspect))
        .route("/invalidate", post(invalidate::invalidate))
        .route("/health", get(health::health))
        .route_layer(from_fn_with_state(admin.clone(), authorize));
    Router::new()
        .route("/", get(page::serve))
        .merge(data)
        .with_state(admin)
}

/// Lets a request through only if the admin's check accepts it.
async fn authorize(State(admin): State<Admin>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if !admin.authorizes(&parts) {
        return AdminError::Unauthorized.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

async fn stats(State(admin): State<Admin>) -> Json<StatsReport> {
    Json(StatsReport::read(admin.cache()))
}
