//! HTTP handlers, one file per resource.

pub mod admin;
pub mod chains;
pub mod demo;
pub mod me;
pub mod ops;
pub mod posts;
pub mod stores;

use axum::extract::Path;
use axum::extract::rejection::PathRejection;

use crate::error::ApiError;

/// A numeric id from the path, or a JSON 400 naming the problem.
pub(crate) fn id_from(path: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|_| ApiError::BadRequest("the id in the path must be an integer".into()))
}
