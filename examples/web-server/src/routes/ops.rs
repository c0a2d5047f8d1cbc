//! `/metrics`, `/healthz` and the JSON 404 for unknown paths.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;

use cache_redis::BreakerState;

use crate::error::ApiError;
use crate::state::AppState;

/// Prometheus text format.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        app.metrics.render(),
    )
}

/// Liveness plus the state of each dependency.
pub async fn healthz(State(app): State<AppState>) -> Json<serde_json::Value> {
    // A cached probe: at most one ping per second however often this is called.
    let database = if app.db.is_up().await { "up" } else { "down" };
    let redis = match &app.redis {
        None => serde_json::json!("disabled"),
        Some(tier) => {
            let health = tier.health();
            serde_json::json!({
                "state": match health.state {
                    BreakerState::Up => "up",
                    BreakerState::Degraded => "degraded",
                    BreakerState::BreakerOpen => "breaker_open",
                    BreakerState::Probing => "probing",
                    _ => "unknown",
                },
                "backplane_connected": health.backplane_connected,
                "queued_operations": health.queued_operations,
                "maxmemory_policy_warning": health.maxmemory_policy_warning,
            })
        }
    };
    // While the database is down the versioned routes answer from the last known versions.
    let (status, fallback) = match database {
        "up" => ("ok", serde_json::Value::Null),
        _ => (
            "degraded",
            serde_json::json!("serving last known versions, marked stale"),
        ),
    };
    Json(serde_json::json!({
        "status": status,
        "database": database,
        "database_fallback": fallback,
        "stale_served": app.last_known.stale_served(),
        "redis": redis,
    }))
}

/// Any unknown path.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}
