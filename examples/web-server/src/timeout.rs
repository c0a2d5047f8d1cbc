//! The request deadline: a request still running after it is answered `503` with a JSON error,
//! so a stuck database or a slow dependency cannot pile up requests behind it.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Middleware (`axum::middleware::from_fn_with_state(limit, timeout::limit)`): runs the rest of
/// the stack for at most `limit`. The abandoned work is dropped, which returns its pooled
/// connection and leaves any cache load it led to the next caller.
pub async fn limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            ApiError::Unavailable("request timed out").into_response()
        }
    }
}
