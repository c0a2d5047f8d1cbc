//! `GET /me/recommendations`: user-specific, so the user is part of the key.

use axum::Json;
use axum::extract::State;

use crate::auth::Caller;
use crate::cached;
use crate::error::ApiError;
use crate::state::AppState;

/// Recommendations for the caller, each with its chain's name (asked once per store: after the
/// first, the request tier answers). The user id in the key comes only from the verified token
/// ([`Caller`]); without a valid one the request ends in 401 before any lookup.
pub async fn recommendations(
    State(app): State<AppState>,
    Caller { user_id }: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
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
