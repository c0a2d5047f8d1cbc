//! Who is calling: a bearer token signed with HMAC-SHA256, never a header the client fills in.
//!
//! A token is `<user id>.<expiry, unix seconds>.<signature, 64 hex digits>`, the signature being
//! HMAC-SHA256 over `<user id>.<expiry>` with the server's secret (`AUTH_SECRET`). Nodes that
//! share the secret accept each other's tokens. Per-user cache keys take the user id from
//! [`Caller`] only, so nobody can read another user's cached data by naming them.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Config;

type HmacSha256 = Hmac<Sha256>;

/// The shortest `AUTH_SECRET` accepted: as long as the HMAC-SHA256 output, so the key is never
/// the weak link.
pub const MIN_SECRET_BYTES: usize = 32;

/// Signs and verifies user tokens. Cheap to clone (the keyed MAC is shared).
#[derive(Clone)]
pub struct TokenAuth {
    // Keyed once: each sign or verify clones this state instead of re-hashing the key.
    keyed: Arc<HmacSha256>,
    demo_enabled: bool,
}

impl std::fmt::Debug for TokenAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuth")
            .field("secret", &"<redacted>")
            .field("demo_enabled", &self.demo_enabled)
            .finish()
    }
}

impl TokenAuth {
    /// A signer for `secret` (at least [`MIN_SECRET_BYTES`] long); `demo_enabled` turns on
    /// `POST /demo/token`.
    ///
    /// ```
    /// use web_server::auth::TokenAuth;
    /// let auth = TokenAuth::new(&[7; 32], false).unwrap();
    /// let (token, _) = auth.mint(42, 60);
    /// assert_eq!(auth.verify(&token).unwrap(), 42);
    /// assert!(TokenAuth::new(b"short", false).is_err());
    /// ```
    pub fn new(secret: &[u8], demo_enabled: bool) -> Result<TokenAuth, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "AUTH_SECRET must be at least {MIN_SECRET_BYTES} bytes"
            ));
        }
        let keyed = HmacSha256::new_from_slice(secret).map_err(|e| e.to_string())?;
        Ok(TokenAuth {
            keyed: Arc::new(keyed),
            demo_enabled,
        })
    }

    /// From `AUTH_SECRET` and `DEMO_AUTH`; a random secret when `AUTH_SECRET` is unset (tokens
    /// then die with the process and only this node accepts them).
    pub fn from_config(config: &Config) -> Result<TokenAuth, String> {
        match &config.auth_secret {
            Some(secret) => TokenAuth::new(secret.as_bytes(), config.demo_auth),
            None => {
                let mut secret = [0_u8; MIN_SECRET_BYTES];
                getrandom::fill(&mut secret)
                    .map_err(|e| format!("no OS randomness for the auth secret: {e}"))?;
                TokenAuth::new(&secret, config.demo_auth)
            }
        }
    }

    /// Whether `POST /demo/token` is served (`DEMO_AUTH=1`).
    pub fn demo_enabled(&self) -> bool {
        self.demo_enabled
    }

    /// A token for `user_id` valid for `ttl_secs` from now, and its expiry (unix seconds).
    pub fn mint(&self, user_id: i64, ttl_secs: u64) -> (String, u64) {
        let expires_at = unix_now().saturating_add(ttl_secs);
        (self.mint_until(user_id, expires_at), expires_at)
    }

    /// A token for `user_id` that expires at `expires_at` (unix seconds; tests mint expired ones).
    pub fn mint_until(&self, user_id: i64, expires_at: u64) -> String {
        let claims = format!("{user_id}.{expires_at}");
        let mut mac = HmacSha256::clone(&self.keyed);
        mac.update(claims.as_bytes());
        let signature = mac.finalize().into_bytes();
        let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
        format!("{claims}.{hex}")
    }

    /// The user id a token vouches for, or why it does not.
    pub fn verify(&self, token: &str) -> Result<i64, AuthError> {
        let (claims, signature) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
        let (user, expiry) = claims.split_once('.').ok_or(AuthError::Malformed)?;
        let signature = decode_hex(signature).ok_or(AuthError::Malformed)?;
        let mut mac = HmacSha256::clone(&self.keyed);
        mac.update(claims.as_bytes());
        // `verify_slice` compares in constant time: no timing oracle for forging signatures.
        mac.verify_slice(&signature)
            .map_err(|_| AuthError::BadSignature)?;
        // Parsed only after the signature holds: unsigned input never reaches the parsers.
        let user_id: i64 = user.parse().map_err(|_| AuthError::Malformed)?;
        let expires_at: u64 = expiry.parse().map_err(|_| AuthError::Malformed)?;
        if unix_now() >= expires_at {
            return Err(AuthError::Expired);
        }
        Ok(user_id)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Why a request was not authenticated: a 401 with a JSON message and `WWW-Authenticate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("authentication required: send Authorization: Bearer <token>")]
    Missing,
    /// Not `<user>.<expiry>.<signature>`.
    #[error("malformed bearer token")]
    Malformed,
    /// The signature does not match (forged, altered, or signed with another secret).
    #[error("invalid bearer token signature")]
    BadSignature,
    /// Signed by us, but past its expiry.
    #[error("bearer token expired")]
    Expired,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}

/// The verified caller: extracting it rejects the request with 401 before the handler runs, so
/// neither the cache nor the database sees an unauthenticated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The user id the token was signed for.
    pub user_id: i64,
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    TokenAuth: FromRef<S>,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, AuthError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AuthError::Missing)?;
        let user_id = TokenAuth::from_ref(state).verify(token.trim())?;
        Ok(Caller { user_id })
    }
}

#[cfg(test)]
mod tests {
    use super::{AuthError, TokenAuth};

    #[test]
    fn tokens_verify_only_unaltered_unexpired_and_with_the_same_secret() {
        let auth = TokenAuth::new(&[1; 32], false).unwrap();
        let (token, _) = auth.mint(7, 60);
        assert_eq!(auth.verify(&token), Ok(7));
        let other = TokenAuth::new(&[2; 32], false).unwrap();
        assert_eq!(other.verify(&token), Err(AuthError::BadSignature));
        let forged = token.replacen('7', "8", 1);
        assert_eq!(auth.verify(&forged), Err(AuthError::BadSignature));
        assert_eq!(auth.verify(&auth.mint_until(7, 1)), Err(AuthError::Expired));
        for junk in ["", "7", "7.99", "7.99.zz", "7.99.abcd"] {
            assert_eq!(auth.verify(junk), Err(AuthError::Malformed), "{junk}");
        }
    }
}
