//! API errors: a status and a JSON body `{"error": "..."}`; never a panic, never a stack trace.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answered to the client.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The resource does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong bearer token.
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// A dependency is too slow or unreachable right now (request deadline, no free database
    /// connection, database down): retrying later may succeed.
    #[error("service unavailable: {0}")]
    Unavailable(&'static str),
    /// The database failed; details go to the log, not to the client.
    #[error("internal error")]
    Internal,
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> ApiError {
        ApiError::from(crate::db::DbError::from(error))
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(error: crate::db::DbError) -> ApiError {
        tracing::error!(%error, "database error");
        if error.is_unavailable() {
            ApiError::Unavailable("database unavailable")
        } else {
            ApiError::Internal
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}
