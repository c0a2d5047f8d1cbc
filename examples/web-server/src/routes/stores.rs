//! `GET /stores/{id}` (versioned key) and `PATCH /stores/{id}` (moves the version).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};

use super::id_from;
use crate::auth::Caller;
use crate::cached;
use crate::error::ApiError;
use crate::limits::ValidJson;
use crate::models::{StoreJson, StorePatch};
use crate::state::AppState;

/// One store with its chain's name.
pub async fn show(
    State(app): State<AppState>,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = id_from(path)?;
    let store = load(&app, id).await?;
    let chain = cached::chain_name(&app, store.chain_id).await?;
    Ok(Json(
        serde_json::json!({ "store": store, "chain_name": chain }),
    ))
}

async fn load(app: &AppState, id: i64) -> Result<StoreJson, ApiError> {
    let updated_at = app
        .db
        .store_version(id)
        .await?
        .ok_or(ApiError::NotFound("store"))?;
    let version = cached::StoreVersion {
        id,
        updated_at: cache_core::Micros(updated_at),
    };
    cached::store(app, version)
        .await?
        .ok_or(ApiError::NotFound("store"))
}

/// Updates a store. No cache call is needed: the new `updated_at` gives the store and its
/// chain list new keys.
///
/// Only an authenticated caller may patch, and only a body within the limits
/// ([`ValidJson`]): both are checked by the extractors, before the database or cache is touched.
pub async fn update(
    State(app): State<AppState>,
    _caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    ValidJson(patch): ValidJson<StorePatch>,
) -> Result<Json<StoreJson>, ApiError> {
    let id = id_from(path)?;
    if !app.db.update_store(id, &patch).await? {
        return Err(ApiError::NotFound("store"));
    }
    Ok(Json(load(&app, id).await?))
}
