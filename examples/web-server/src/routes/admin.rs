//! `GET|PUT /admin/flags`: view and change cache modes live, behind a bearer token.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::HeaderMap;
use cache_admin::{AdminError, BearerToken};
use cache_core::Flags;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// The body of `PUT /admin/flags`: a spec like `"chains=off, likes=25%"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagUpdate {
    /// `name=mode` entries separated by commas.
    pub spec: String,
}

fn authorize(app: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    // The same constant-time check the dashboard's routes use.
    if BearerToken::new(&app.admin_token).accepts(headers) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

fn view(flags: &Flags) -> serde_json::Value {
    let entries: Vec<_> = flags
        .described()
        .into_iter()
        .map(|(name, mode, layer)| {
            serde_json::json!({ "name": name, "mode": mode.to_string(), "layer": format!("{layer:?}").to_lowercase() })
        })
        .collect();
    serde_json::json!({ "flags": entries })
}

/// The current flag table.
pub async fn flags(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&app, &headers)?;
    Ok(Json(view(app.cache.flags())))
}

/// Writes every buffered like to the database now.
pub async fn flush(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&app, &headers)?;
    app.likes.flush().await.map_err(|error| {
        tracing::error!(%error, "flushing likes");
        ApiError::Internal
    })?;
    Ok(Json(serde_json::json!({ "flushed": true })))
}

/// Applies a spec to the live layer; the whole spec is rejected if any entry is invalid.
pub async fn set_flags(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<FlagUpdate>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&app, &headers)?;
    let Json(update) = body.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    // The dashboard's flag change: validate whole, publish to every node through Redis (when
    // configured), then apply here.
    crate::dashboard::admin(&app)
        .change_flags(&update.spec)
        .await
        .map_err(|error| match error {
            AdminError::Flags(invalid) => ApiError::BadRequest(invalid.to_string()),
            other => {
                tracing::error!(error = %other, "changing flags");
                ApiError::Internal
            }
        })?;
    Ok(Json(view(app.cache.flags())))
}
