//! The cached computations: each is a plain async function over a real query with one
//! `#[cached]` attribute, whose key says exactly what the value depends on. The macro refuses to
//! compile if an argument that can change the result is missing from the key.

use bytes::Bytes;
use cache_core::{CacheKey, Micros, cached};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::models::{ChainVersion, PostJson, StoreJson};
use crate::state::AppState;

/// A finished JSON document: cloning it is a reference-count bump, serving it is a copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonBody(pub Bytes);

/// A store at one version: its key is `store/<id>-<version>` (Rails' `cache_key_with_version`),
/// so a PATCH, which bumps `version` in the database, makes a new key.
#[derive(Debug, Clone, Copy, cache_core::CacheKey)]
#[cache_key(prefix = "store", id = id, version = version)]
pub struct StoreVersion {
    /// The store.
    pub id: i64,
    /// Its `version` column: a counter, not a time, but it starts from the seeding clock in µs, so
    /// it is written as a stamp.
    pub version: Micros,
}

/// `chains/query-<digest>-<count>-<chain version>`: every store update bumps the chain's
/// version in the same transaction, so it makes a new key and the list never needs explicit
/// invalidation (seed 002). A value cached under a version was loaded after that version was
/// committed, so it never shows less than the version says.
pub fn chain_list_key(chain_id: i64, version: ChainVersion) -> CacheKey {
    CacheKey::collection(
        "chains",
        &("stores", chain_id),
        version.count,
        Micros(version.version),
    )
}

/// The chain's store list as finished JSON (seed 002 caches plain JSON, not query objects).
#[cached(
    name = "chains",
    key = chain_list_key(*chain_id, *version),
    ttl = "10m",
    stale = "1h",
    cache = app.cache,
)]
pub async fn chain_stores(
    #[cache(skip)] app: &AppState,
    chain_id: i64,
    version: ChainVersion,
) -> Result<JsonBody, ApiError> {
    let stores = app.db.chain_stores(chain_id).await?;
    let body = serde_json::json!({ "chain_id": chain_id, "count": stores.len(), "stores": stores });
    let bytes = serde_json::to_vec(&body).map_err(|_| ApiError::Internal)?;
    Ok(JsonBody(Bytes::from(bytes)))
}

/// One store at one version.
#[cached(name = "stores", key = store.cache_key(), ttl = "1h", cache = app.cache)]
pub async fn store(
    #[cache(skip)] app: &AppState,
    store: StoreVersion,
) -> Result<Option<StoreJson>, ApiError> {
    Ok(app.db.store(store.id).await?)
}

/// A chain's display name (asked for repeatedly within one request: the request tier answers).
#[cached(name = "chain_name", flag = "chains", ttl = "1h", cache = app.cache)]
pub async fn chain_name(#[cache(skip)] app: &AppState, chain_id: i64) -> Result<String, ApiError> {
    app.db
        .chain_name(chain_id)
        .await?
        .ok_or(ApiError::NotFound("chain"))
}

/// One post with its like count; invalidated when liked (see `post_cache_key`).
#[cached(name = "posts", ttl = "60s", cache = app.cache)]
pub async fn post(#[cache(skip)] app: &AppState, id: i64) -> Result<Option<PostJson>, ApiError> {
    Ok(app.db.post(id).await?)
}

/// A user's recommendations. The user id is the key (seed 004: user-specific data in keys), and
/// they stay out of the shared Redis tier.
#[cached(
    name = "recommendations",
    key = user_id,
    tiers = "request, local",
    ttl = "5m",
    cache = app.cache,
)]
pub async fn recommendations(
    #[cache(skip)] app: &AppState,
    user_id: i64,
) -> Result<Vec<StoreJson>, ApiError> {
    Ok(app.db.recommendations(user_id).await?)
}
