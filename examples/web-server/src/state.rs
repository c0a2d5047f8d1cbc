//! The state every handler shares. Building it (and the router) is `app`'s job, so the cached
//! functions and routes that take `&AppState` don't depend on how it is assembled.

use std::sync::Arc;

use axum::extract::FromRef;

use cache_core::Cache;
use cache_core::metrics::prometheus::PrometheusMetrics;
use cache_redis::RedisTier;
use cache_redis::flags::RedisFlagSource;

use crate::auth::TokenAuth;
use crate::db::Db;
use crate::last_known::LastKnown;
use crate::likes::Likes;

/// Everything a handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The multi-tier cache.
    pub cache: Cache,
    /// Where `/metrics` reads from.
    pub metrics: PrometheusMetrics,
    /// Bearer token for `/admin/*`.
    pub admin_token: Arc<str>,
    /// The Redis tier, when `REDIS_URL` is set.
    pub redis: Option<RedisTier>,
    /// Flags shared by every node through Redis, when `REDIS_URL` is set.
    pub shared_flags: Option<RedisFlagSource>,
    /// Where likes go: write-back through Redis, or write-through without it.
    pub likes: Likes,
    /// Verifies (and, in demo mode, mints) user tokens.
    pub auth: TokenAuth,
    /// The last version seen of each chain list and store, served (marked stale) when the
    /// database is down.
    pub last_known: Arc<LastKnown>,
}

// Lets the `Caller` extractor find the verifier without `auth` depending on the state.
impl FromRef<AppState> for TokenAuth {
    fn from_ref(app: &AppState) -> TokenAuth {
        app.auth.clone()
    }
}

/// The Redis hash holding the live flags shared by every node.
pub const FLAG_HASH: &str = "web:flags";

/// Code defaults for the flags; `CACHE_FLAGS` and `/admin/flags` override them.
pub const DEFAULT_FLAGS: &str = "*=on";
