//! An admin router for a [`cache_core::Cache`] that any axum service can mount: live stats,
//! flags, a key inspector, invalidation, health, and a self-contained dashboard page.
//!
//! ```text
//! GET  (the prefix) the dashboard page (HTML, CSS, JS and the uPlot chart library inline);
//!                   axum serves a nested router's `/` at the prefix itself, without a slash
//! GET  /stats       per cache name and tier: lookups by result, hit ratio, loads, coalesced,
//!                   stale served, errors, load latency p50/p99; local bytes and entries
//! GET  /flags       the flag table;  PUT /flags {"spec": "chains=off"} changes it live
//! GET  /keys/{key}  which tiers hold a key, fresh-until, stale-until, size, load time
//! POST /invalidate  {"key": "users:42"} or {"tag": "chain:7"}
//! GET  /health      every health source (Redis breaker and backplane, write-back backlog …)
//! ```
//!
//! Every route but the page and its assets asks the caller-supplied authorization check first
//! (the page holds no data; it asks for a token and sends it as a bearer token). A refused
//! request gets `401 {"error": …}`; bad input gets a `4xx {"error": …}` naming what was wrong,
//! and changes nothing.
//!
//! The stats come from the counters the cache's OpenTelemetry instruments report
//! ([`Cache::name_reports`](cache_core::Cache::name_reports)), so the page and `/metrics`
//! agree; per-name figures need a cache built with a meter.
//!
//! # Examples
//!
//! ```
//! use axum::Router;
//! use cache_admin::{Admin, BearerToken};
//! use cache_core::Cache;
//!
//! let cache = Cache::builder().build();
//! let token = BearerToken::new("s3cret");
//! let admin = Admin::new(cache, move |parts| token.accepts(&parts.headers));
//! let app: Router = Router::new().nest("/admin/cache", cache_admin::router(admin));
//! # let _ = app;
//! ```
//!
//! # Features
//!
//! - `redis`: [`RedisTier`](cache_redis::RedisTier) is a [`HealthSource`] and
//!   [`RedisFlagSource`](cache_redis::flags::RedisFlagSource) a [`FlagPublisher`]. A feature
//!   rather than a hard dependency: a service on the embedded default (no Redis) should not
//!   compile a Redis client to get a dashboard.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod admin;
mod auth;
mod error;
mod health;
mod page;
#[cfg(feature = "redis")]
mod redis;
mod routes;
mod stats;

pub use admin::{Admin, FlagPublisher};
pub use auth::BearerToken;
pub use error::AdminError;
pub use health::{HealthReport, HealthSource};
pub use page::{PAGE_BUDGET_BYTES, page_html};
pub use routes::router;
pub use stats::{
    CacheStats, LatencySummary, LocalStats, StatsReport, TierStats, Tiers, TotalStats,
};
