//! `GET keys/{key}`: where one key is held and for how long.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use cache_core::CacheKey;
use cache_core::tier::inspect::{EntryFacts, RemoteFinding};
use serde_json::{Value, json};

use crate::admin::Admin;
use crate::error::AdminError;

/// The key comes percent-encoded in the path (keys contain `%`, `/` and `:`; the page sends
/// `encodeURIComponent(key)`).
pub(crate) async fn inspect(
    State(admin): State<Admin>,
    key: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, AdminError> {
    let Path(text) = key.map_err(|e| AdminError::Body(e.body_text()))?;
    let key = CacheKey::parse(&text).map_err(AdminError::Key)?;
    let found = admin.cache().inspect(&key).await;
    let now = found.now_ms;
    let facts = |f: &EntryFacts| {
        json!({
            "state": f.state(now),
            "fresh_until_ms": f.fresh_until_ms,
            "stale_until_ms": f.stale_until_ms,
            "load_ms": f64::from(f.load_micros) / 1000.0,
            "size_bytes": f.size_bytes,
        })
    };
    let mut tiers = Vec::new();
    if found.local.is_some() {
        tiers.push("local");
    }
    let remote = match &found.remote {
        RemoteFinding::Entry(f) => {
            tiers.push("remote");
            let mut entry = facts(f);
            entry["status"] = json!("entry");
            entry
        }
        RemoteFinding::Absent => json!({ "status": "absent" }),
        RemoteFinding::Leased => json!({ "status": "leased" }),
        RemoteFinding::NotConfigured => json!({ "status": "not_configured" }),
        RemoteFinding::Corrupt(why) => json!({ "status": "corrupt", "detail": why }),
        RemoteFinding::Unreachable(why) => json!({ "status": "unreachable", "detail": why }),
        other => json!({ "status": format!("{other:?}") }),
    };
    Ok(Json(json!({
        "key": found.key,
        "cache_name": key.cache_name(),
        "now_ms": now,
        "tiers": tiers,
        "local": found.local.as_ref().map(facts),
        "remote": remote,
    })))
}
