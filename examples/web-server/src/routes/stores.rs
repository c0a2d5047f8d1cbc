//! `GET /stores/{id}` (versioned key) and `PATCH /stores/{id}` (moves the version).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};

use super::id_from;
use crate::cached;
use crate::error::ApiError;
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
    let version = app
        .db
        .store_version(id)
        .await?
        .ok_or(ApiError::NotFound("store"))?;
    let version = cached::StoreVersion {
        id,
        version: cache_core::Micros(version),
    };
    cached::store(app, version)
        .await?
        .ok_or(ApiError::NotFound("store"))
}

/// Updates a store. No cache call is needed: the update bumps the store's and its chain's
/// versions in the database, which gives the store and its chain list new keys.
pub async fn update(
    State(app): State<AppState>,
    path: Result<Path<i64>, PathRejection>,
    body: Result<Json<StorePatch>, JsonRejection>,
) -> Result<Json<StoreJson>, ApiError> {
    let id = id_from(path)?;
    let Json(patch) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if !app.db.update_store(id, &patch).await? {
        return Err(ApiError::NotFound("store"));
    }
    Ok(Json(load(&app, id).await?))
}
