//! Assembling the shared state from the configuration, and the router.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use cache_core::metrics::prometheus::PrometheusMetrics;
use cache_core::{Cache, FlagSource, Flags, LocalTier, RequestScopeLayer};
use cache_redis::RedisTier;

use crate::auth::TokenAuth;
use crate::cached;
use crate::config::Config;
use crate::dashboard;
use crate::db::{Db, SeedSize};
use crate::likes::Likes;
use crate::limits::MAX_BODY_BYTES;
use crate::routes;
use crate::state::{AppState, DEFAULT_FLAGS, FLAG_HASH};
use crate::timeout;

impl AppState {
    /// Opens the database and builds the cache described by `config`.
    pub async fn build(config: &Config, seed: SeedSize) -> Result<AppState, String> {
        let db = Db::open_with(&config.database_url, seed, config.db_acquire_timeout)
            .await
            .map_err(|e| {
                format!(
                    "opening {}: {e}",
                    crate::config::redact_url(&config.database_url)
                )
            })?;
        let mut flags = Flags::parse(DEFAULT_FLAGS).map_err(|e| e.to_string())?;
        if let Some(spec) = &config.cache_flags {
            flags = flags
                .with_env_spec(spec)
                .map_err(|e| format!("CACHE_FLAGS: {e}"))?;
        }
        // `/metrics` always; an OTLP push too when the standard OTEL_* variables ask for it.
        let metrics = match crate::otlp::reader_from_env()? {
            Some(push) => PrometheusMetrics::with_reader(push),
            None => PrometheusMetrics::new(),
        }
        .map_err(|e| e.to_string())?;
        let mut builder = Cache::builder()
            .namespace("web")
            .flags(flags.clone())
            .meter(metrics.meter());
        // 0 means no local tier at all (every hit is a Redis hit: the load test's "redis" row).
        builder = match config.local_bytes {
            0 => builder.without_local(),
            bytes => builder.local(LocalTier::new(bytes)),
        };
        let (mut redis, mut shared_flags) = (None, None);
        if let Some(url) = &config.redis_url {
            // The error text is already redacted by cache-redis.
            let tier = RedisTier::connect(url).await.map_err(|e| e.to_string())?;
            let source = tier.flag_source(FLAG_HASH);
            source
                .attach(flags)
                .await
                .map_err(|e| format!("loading flags from Redis: {e}"))?;
            builder = builder.remote(tier.clone());
            (redis, shared_flags) = (Some(tier), Some(source));
        }
        let admin_token = match &config.admin_token {
            Some(token) => Arc::from(token.as_str()),
            None => Arc::from(random_token()?.as_str()),
        };
        let cache = builder.build();
        Ok(AppState {
            likes: Likes::new(&db, &cache, redis.as_ref(), cached::post_cache_key)?,
            db,
            cache,
            metrics,
            admin_token,
            redis,
            shared_flags,
            auth: TokenAuth::from_config(config)?,
            last_known: Arc::default(),
        })
    }
}

/// 128 random bits, hex: the admin token when `ADMIN_TOKEN` is unset.
fn random_token() -> Result<String, String> {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| format!("no OS randomness for the admin token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Every route, each request in its own request scope and under the default deadline.
pub fn router(state: AppState) -> Router {
    router_with_timeout(state, crate::config::DEFAULT_REQUEST_TIMEOUT)
}

/// [`router`], with requests still running after `request_timeout` answered 503.
pub fn router_with_timeout(state: AppState, request_timeout: Duration) -> Router {
    let mut routes = Router::new()
        .route("/", get(dashboard::landing))
        .nest(
            dashboard::MOUNT,
            cache_admin::router(dashboard::admin(&state)),
        )
        .route("/admin/cache/", get(dashboard::to_dashboard));
    if state.auth.demo_enabled() {
        routes = routes.route("/demo/token", post(routes::demo::token));
    }
    routes
        .route("/chains/{id}/stores", get(routes::chains::stores))
        .route(
            "/stores/{id}",
            get(routes::stores::show).patch(routes::stores::update),
        )
        .route("/posts/{id}", get(routes::posts::show))
        .route("/posts/{id}/like", post(routes::posts::like))
        .route("/me/recommendations", get(routes::me::recommendations))
        .route(
            "/admin/flags",
            get(routes::admin::flags).put(routes::admin::set_flags),
        )
        .route("/admin/flush", post(routes::admin::flush))
        .route("/metrics", get(routes::ops::metrics))
        .route("/healthz", get(routes::ops::healthz))
        .fallback(routes::ops::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestScopeLayer::new())
        .layer(from_fn_with_state(request_timeout, timeout::limit))
        .with_state(state)
}
