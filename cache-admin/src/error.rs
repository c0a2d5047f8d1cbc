//! Why a request was refused, as a JSON body with a fitting status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cache_core::flags::FlagParseError;
use cache_core::key::KeyParseError;

/// What went wrong with an admin request. Every variant but [`FlagPublish`](Self::FlagPublish)
/// is the caller's mistake and changed nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// The authorization check refused the request.
    #[error("unauthorized: send the admin token as `Authorization: Bearer <token>`")]
    Unauthorized,
    /// The body is not the JSON the route expects.
    #[error("invalid request body: {0}")]
    Body(String),
    /// The key text is not a cache key.
    #[error("invalid key: {0}")]
    Key(#[source] KeyParseError),
    /// The flag spec does not parse; no entry of it was applied.
    #[error("invalid flag spec: {0}")]
    Flags(#[source] FlagParseError),
    /// An invalidation named neither or both of `key` and `tag`.
    #[error("name exactly one of \"key\" or \"tag\"")]
    Target,
    /// The tag is empty.
    #[error("the tag is empty")]
    EmptyTag,
    /// The flag change could not be shared with the other nodes; it was not applied here
    /// either, so nodes do not disagree.
    #[error("publishing the flag change failed: {0}")]
    FlagPublish(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AdminError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::Unauthorized => StatusCode::UNAUTHORIZED,
            AdminError::FlagPublish(_) => StatusCode::BAD_GATEWAY,
            AdminError::Body(_)
            | AdminError::Key(_)
            | AdminError::Flags(_)
            | AdminError::Target
            | AdminError::EmptyTag => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        if let AdminError::FlagPublish(error) = &self {
            tracing::error!(%error, "publishing a flag change");
        }
        let body = serde_json::json!({ "error": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}
