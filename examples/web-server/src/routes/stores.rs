//! `GET /stores/{id}` (versioned key) and `PATCH /stores/{id}` (moves the version).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

use super::id_from;
use crate::auth::Caller;
use crate::cached;
use crate::error::ApiError;
use crate::last_known::mark_stale;
use crate::limits::ValidJson;
use crate::models::{StoreJson, StorePatch};
use crate::state::AppState;

/// One store with its chain's name (the last known version, marked stale, if the database is
/// down).
pub async fn show(
    State(app): State<AppState>,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = id_from(path)?;
    let (store, stale_for) = load_versioned(&app, id).await?;
    let chain = cached::chain_name(&app, store.chain_id).await?;
    let mut response =
        Json(serde_json::json!({ "store": store, "chain_name": chain })).into_response();
    mark_stale(response.headers_mut(), stale_for);
    Ok(response)
}

async fn load(app: &AppState, id: i64) -> Result<StoreJson, ApiError> {
    Ok(load_versioned(app, id).await?.0)
}

/// The store, and how stale it is when the database could not confirm its version.
async fn load_versioned(
    app: &AppState,
    id: i64,
) -> Result<(StoreJson, Option<std::time::Duration>), ApiError> {
    let resolved = app
        .last_known
        .store_version(id, app.db.store_version(id))
        .await?
        .ok_or(ApiError::NotFound("store"))?;
    let version = cached::StoreVersion {
        id,
        version: cache_core::Micros(resolved.version),
    };
    let store = cached::store(app, version)
        .await?
        .ok_or(ApiError::NotFound("store"))?;
    Ok((store, resolved.stale_for))
}

/// Updates a store. No cache call is needed: the update bumps the store's and its chain's
/// versions in the database, which gives the store and its chain list new keys.
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
