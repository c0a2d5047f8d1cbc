//! Request bodies: a size limit, the JSON content type, and field limits, each rejected with a
//! JSON message saying what was wrong before any handler code (cache or database) runs.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::models::StorePatch;

/// The largest request body accepted (16 KiB); larger ones get 413. Applied to every route by
/// the router's `DefaultBodyLimit` layer.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Longest accepted `name` of a store, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest accepted `address` of a store, in characters.
pub const MAX_ADDRESS_CHARS: usize = 300;
/// Longest accepted `phone` of a store, in characters.
pub const MAX_PHONE_CHARS: usize = 40;
/// Longest accepted `opening_hours` of a store, in characters.
pub const MAX_OPENING_HOURS_CHARS: usize = 500;

/// Checks beyond what deserialising enforces; the message names the field and the limit.
pub trait Validate {
    /// `Err(message)` when a field is out of bounds.
    fn validate(&self) -> Result<(), String>;
}

impl Validate for StorePatch {
    fn validate(&self) -> Result<(), String> {
        let fields = [
            ("name", &self.name, MAX_NAME_CHARS, true),
            ("address", &self.address, MAX_ADDRESS_CHARS, true),
            ("phone", &self.phone, MAX_PHONE_CHARS, false),
            (
                "opening_hours",
                &self.opening_hours,
                MAX_OPENING_HOURS_CHARS,
                false,
            ),
        ];
        for (field, value, max, required_text) in fields {
            if let Some(value) = value {
                check_text(field, value, max, required_text)?;
            }
        }
        Ok(())
    }
}

/// One text field: at most `max` characters, no control characters, and (for fields a store
/// cannot do without) not blank.
///
/// ```
/// use web_server::limits::check_text;
/// assert!(check_text("name", "Optics", 200, true).is_ok());
/// assert_eq!(check_text("phone", &"1".repeat(41), 40, false).unwrap_err(),
///            "phone is 41 characters long; the limit is 40");
/// assert_eq!(check_text("name", "  ", 200, true).unwrap_err(), "name must not be blank");
/// ```
pub fn check_text(field: &str, value: &str, max: usize, not_blank: bool) -> Result<(), String> {
    let chars = value.chars().count();
    if chars > max {
        return Err(format!(
            "{field} is {chars} characters long; the limit is {max}"
        ));
    }
    if not_blank && value.trim().is_empty() {
        return Err(format!("{field} must not be blank"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field} must not contain control characters"));
    }
    Ok(())
}

/// A JSON body that parsed and passed [`Validate`]. Rejections: 413 (over
/// [`MAX_BODY_BYTES`]), 415 (not `application/json`), 400 (not JSON at all), 422 (JSON of the
/// wrong shape or out of limits).
#[derive(Debug, Clone)]
pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = BodyRejection;

    async fn from_request(request: Request, state: &S) -> Result<ValidJson<T>, BodyRejection> {
        let Json(value) = Json::<T>::from_request(request, state)
            .await
            .map_err(BodyRejection::from)?;
        value.validate().map_err(|message| BodyRejection {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message,
        })?;
        Ok(ValidJson(value))
    }
}

/// Why a body was refused: a status and a JSON `{"error": ...}`.
#[derive(Debug, Clone)]
pub struct BodyRejection {
    /// 400, 413, 415 or 422.
    pub status: StatusCode,
    /// What was wrong, for the client.
    pub message: String,
}

impl From<JsonRejection> for BodyRejection {
    fn from(rejection: JsonRejection) -> BodyRejection {
        let status = rejection.status();
        let message = match &rejection {
            JsonRejection::MissingJsonContentType(_) => {
                "the body must be JSON with Content-Type: application/json".to_string()
            }
            _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
                format!("the body is larger than the limit of {MAX_BODY_BYTES} bytes")
            }
            // Syntax errors (400) and shape errors (422: wrong types, unknown fields) carry
            // serde's description of where the body went wrong.
            _ => rejection.body_text(),
        };
        BodyRejection { status, message }
    }
}

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}
