//! `GET health`: every health source, and the cache's own state.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::admin::Admin;

/// Asks every source in turn (each is expected to answer promptly: a few atomics or one
/// round trip).
pub(crate) async fn health(State(admin): State<Admin>) -> Json<Value> {
    let mut sources = Vec::new();
    let mut ok = true;
    for source in admin.health_sources() {
        let report = source.check().await;
        ok &= report.ok;
        sources.push(json!({
            "name": source.name(),
            "ok": report.ok,
            "findings": report.findings,
            "details": report.details,
        }));
    }
    let cache = admin.cache();
    Json(json!({
        "ok": ok,
        "remote_configured": cache.has_remote(),
        "loads_in_flight": cache.loads_in_flight(),
        "sources": sources,
    }))
}
