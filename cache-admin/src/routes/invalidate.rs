//! `POST invalidate`: drop a key or a tag everywhere.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use cache_core::CacheKey;
use serde::Deserialize;

use crate::admin::Admin;
use crate::error::AdminError;

/// The body: exactly one of `key` (a key's text) and `tag`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Target {
    key: Option<String>,
    tag: Option<String>,
}

/// Every input is checked before anything is dropped.
pub(crate) async fn invalidate(
    State(admin): State<Admin>,
    body: Result<Json<Target>, JsonRejection>,
) -> Result<Json<serde_json::Value>, AdminError> {
    let Json(target) = body.map_err(|e| AdminError::Body(e.body_text()))?;
    match (target.key, target.tag) {
        (Some(key), None) => {
            let key = CacheKey::parse(&key).map_err(AdminError::Key)?;
            admin.cache().invalidate(&key).await;
            Ok(Json(
                serde_json::json!({ "invalidated": { "key": key.as_str() } }),
            ))
        }
        (None, Some(tag)) if tag.is_empty() => Err(AdminError::EmptyTag),
        (None, Some(tag)) => {
            admin.cache().invalidate_tag(&tag).await;
            Ok(Json(serde_json::json!({ "invalidated": { "tag": tag } })))
        }
        _ => Err(AdminError::Target),
    }
}
