//! `GET /me/recommendations`: user-specific, so the user is part of the key.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;

use crate::cached;
use crate::error::ApiError;
use crate::state::AppState;

/// Recommendations for the user named by `X-User-Id`, each with its chain's name (asked once
/// per store: after the first, the request tier answers).
pub async fn recommendations(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user_id: i64 = headers
        .get("x-user-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            ApiError::BadRequest("header X-User-Id with an integer user id is required".into())
        })?;
    let stores = cached::recommendations(&app, user_id).await?;
    let mut items = Vec::with_capacity(stores.len());
    for store in stores {
        let chain_name = cached::chain_name(&app, store.chain_id).await?;
        items.push(serde_json::json!({ "store": store, "chain_name": chain_name }));
    }
    Ok(Json(
        serde_json::json!({ "user_id": user_id, "recommendations": items }),
    ))
}
