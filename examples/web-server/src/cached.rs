//! The cached computations. Each is one `Cache` call around a real query; the key says exactly
//! what the value depends on.

use std::sync::LazyLock;
use std::time::Duration;

use bytes::Bytes;
use cache_core::{CacheKey, Micros, Options, Tiers};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::error::ApiError;
use crate::models::{ChainVersion, PostJson, StoreJson};

/// A finished JSON document: cloning it is a reference-count bump, serving it is a copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonBody(pub Bytes);

static CHAIN_LIST: LazyLock<Options> = LazyLock::new(|| {
    Options::new()
        .ttl(Duration::from_secs(600))
        .stale(Duration::from_secs(3600))
        .flag("chains")
});
static STORE: LazyLock<Options> =
    LazyLock::new(|| Options::new().ttl(Duration::from_secs(3600)).flag("stores"));
static CHAIN_NAME: LazyLock<Options> =
    LazyLock::new(|| Options::new().ttl(Duration::from_secs(3600)).flag("chains"));
static POST: LazyLock<Options> =
    LazyLock::new(|| Options::new().ttl(Duration::from_secs(60)).flag("posts"));
/// User-specific: kept out of the shared Redis tier.
static RECOMMENDATIONS: LazyLock<Options> = LazyLock::new(|| {
    Options::new()
        .ttl(Duration::from_secs(300))
        .tiers(Tiers::REQUEST | Tiers::LOCAL)
        .flag("recommendations")
});

/// `chains/query-<digest>-<count>-<max updated_at>`: any store change makes a new key, so the
/// list never needs explicit invalidation (seed 002).
pub fn chain_list_key(chain_id: i64, version: ChainVersion) -> CacheKey {
    CacheKey::collection(
        "chains",
        &("stores", chain_id),
        version.count,
        Micros(version.max_updated_at),
    )
}

/// The chain's store list as finished JSON.
pub async fn chain_stores(
    app: &AppState,
    key: &CacheKey,
    chain_id: i64,
) -> Result<JsonBody, ApiError> {
    app.cache
        .get_or_load(key, &CHAIN_LIST, || async {
            let stores = app.db.chain_stores(chain_id).await?;
            let body = serde_json::json!({ "chain_id": chain_id, "count": stores.len(), "stores": stores });
            let bytes = serde_json::to_vec(&body).map_err(|_| ApiError::Internal)?;
            Ok(JsonBody(Bytes::from(bytes)))
        })
        .await
}

/// `store/<id>-<updated_at>`: a PATCH moves `updated_at`, so readers get a new key.
pub fn store_key(id: i64, updated_at: i64) -> CacheKey {
    CacheKey::versioned("store", &id, Micros(updated_at))
}

/// One store, by its versioned key.
pub async fn store(
    app: &AppState,
    id: i64,
    updated_at: i64,
) -> Result<Option<StoreJson>, ApiError> {
    app.cache
        .get_or_load(&store_key(id, updated_at), &STORE, || async {
            Ok(app.db.store(id).await?)
        })
        .await
}

/// A chain's display name (asked for repeatedly within one request: the request tier answers).
pub async fn chain_name(app: &AppState, chain_id: i64) -> Result<String, ApiError> {
    app.cache
        .get_or_load(
            &CacheKey::new("chain_name", &chain_id),
            &CHAIN_NAME,
            || async {
                app.db
                    .chain_name(chain_id)
                    .await?
                    .ok_or(ApiError::NotFound("chain"))
            },
        )
        .await
}

/// The cache key of a post.
pub fn post_key(id: i64) -> CacheKey {
    CacheKey::new("posts", &id)
}

/// One post with its like count.
pub async fn post(app: &AppState, id: i64) -> Result<Option<PostJson>, ApiError> {
    app.cache
        .get_or_load(&post_key(id), &POST, || async {
            Ok(app.db.post(id).await?)
        })
        .await
}

/// A user's recommendations: the user id is in the key (seed 004: user-specific data in keys).
pub async fn recommendations(app: &AppState, user_id: i64) -> Result<Vec<StoreJson>, ApiError> {
    app.cache
        .get_or_load(
            &CacheKey::new("recommendations", &user_id),
            &RECOMMENDATIONS,
            || async { Ok(app.db.recommendations(user_id).await?) },
        )
        .await
}
