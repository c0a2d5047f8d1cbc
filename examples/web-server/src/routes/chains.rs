//! `GET /chains/{id}/stores`: the ~800-store list of seed 002, with ETag / 304.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::id_from;
use crate::cached;
use crate::error::ApiError;
use crate::last_known::mark_stale;
use crate::state::AppState;

/// The list as JSON. The ETag is derived from the cache key, which changes with any store
/// update, so a client holding the current list gets `304 Not Modified` without the value even
/// being loaded.
pub async fn stores(
    State(app): State<AppState>,
    path: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let chain_id = id_from(path)?;
    let resolved = app
        .last_known
        .chain_version(chain_id, app.db.chain_version(chain_id))
        .await?
        .ok_or(ApiError::NotFound("chain"))?;
    let version = resolved.version;
    let key = cached::chain_list_key(chain_id, version);
    let etag = format!("\"{:016x}\"", key.stable_hash());
    let etag_value = HeaderValue::from_str(&etag).map_err(|_| ApiError::Internal)?;
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    if matches {
        let mut response = (StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response();
        mark_stale(response.headers_mut(), resolved.stale_for);
        return Ok(response);
    }
    let body = cached::chain_stores(&app, chain_id, version).await?;
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag_value),
        ],
        body.0,
    )
        .into_response();
    mark_stale(response.headers_mut(), resolved.stale_for);
    Ok(response)
}
