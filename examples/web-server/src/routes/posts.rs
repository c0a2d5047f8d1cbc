//! `GET /posts/{id}` and `POST /posts/{id}/like` (seed 003).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};

use super::id_from;
use crate::auth::Caller;
use crate::cached;
use crate::error::ApiError;
use crate::models::PostJson;
use crate::state::AppState;

/// A post with its like count: the database count plus likes still buffered.
pub async fn show(
    State(app): State<AppState>,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<PostJson>, ApiError> {
    let id = id_from(path)?;
    let mut post = cached::post(&app, id)
        .await?
        .ok_or(ApiError::NotFound("post"))?;
    post.likes += app.likes.pending(id).await;
    Ok(Json(post))
}

/// Adds a like: buffered in Redis and flushed in batches when Redis is configured (readers add
/// the pending count), written through otherwise (and the cached post is invalidated on every
/// node). No like is ever lost either way. Only an authenticated caller may like (401 otherwise,
/// before the post is even looked up).
pub async fn like(
    State(app): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = id_from(path)?;
    tracing::debug!(user_id = caller.user_id, post_id = id, "like");
    if cached::post(&app, id).await?.is_none() {
        return Err(ApiError::NotFound("post"));
    }
    app.likes.like(id).await?;
    if app.likes.writes_through() {
        app.cache.invalidate(&cached::post_cache_key(&id)).await;
    }
    Ok(Json(serde_json::json!({ "post_id": id, "liked": true })))
}
