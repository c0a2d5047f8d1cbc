//! `POST /demo/token` (only with `DEMO_AUTH=1`): mints a token for any user id, so the example
//! can be tried without a login service. A real deployment mints tokens after checking a password
//! or an identity provider, and leaves `DEMO_AUTH` off.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::limits::{ValidJson, Validate};
use crate::state::AppState;

/// Token lifetime when the request names none.
pub const DEFAULT_TTL_SECS: u64 = 3_600;
/// Longest lifetime a demo token may ask for (one day).
pub const MAX_TTL_SECS: u64 = 86_400;

/// The body: `{"user_id": 42}`, optionally with `"ttl_secs"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Whom the token speaks for (a positive id).
    pub user_id: i64,
    /// Seconds until it expires (1 to [`MAX_TTL_SECS`]; default [`DEFAULT_TTL_SECS`]).
    pub ttl_secs: Option<u64>,
}

impl Validate for TokenRequest {
    fn validate(&self) -> Result<(), String> {
        if self.user_id < 1 {
            return Err("user_id must be a positive integer".into());
        }
        match self.ttl_secs {
            Some(ttl) if !(1..=MAX_TTL_SECS).contains(&ttl) => {
                Err(format!("ttl_secs must be between 1 and {MAX_TTL_SECS}"))
            }
            _ => Ok(()),
        }
    }
}

/// `{"token": "...", "user_id": 42, "expires_at": <unix seconds>}`; send the token as
/// `Authorization: Bearer <token>`.
pub async fn token(
    State(app): State<AppState>,
    ValidJson(request): ValidJson<TokenRequest>,
) -> Json<serde_json::Value> {
    let ttl = request.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    let (token, expires_at) = app.auth.mint(request.user_id, ttl);
    Json(serde_json::json!({
        "token": token,
        "user_id": request.user_id,
        "expires_at": expires_at,
    }))
}
