//! `GET /posts/{id}` and `POST /posts/{id}/like` (seed 003).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};

use super::id_from;
use crate::app::AppState;
use crate::cached;
use crate::error::ApiError;
use crate::models::PostJson;

/// A post with its like count.
pub async fn show(
    State(app): State<AppState>,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<PostJson>, ApiError> {
    let id = id_from(path)?;
    cached::post(&app, id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("post"))
}

/// Adds a like. Written through to the database in one atomic statement, then the cached post
/// is invalidated on every node, so no like is ever lost.
pub async fn like(
    State(app): State<AppState>,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = id_from(path)?;
    if !app.db.add_likes(id, 1).await? {
        return Err(ApiError::NotFound("post"));
    }
    app.cache.invalidate(&cached::post_cache_key(&id)).await;
    Ok(Json(serde_json::json!({ "post_id": id, "liked": true })))
}
