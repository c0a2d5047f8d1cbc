//! A ready-made authorization check: one bearer token, compared in constant time.

use axum::http::{HeaderMap, header};

/// Accepts requests carrying `Authorization: Bearer <token>` with the configured token.
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue, header};
/// use cache_admin::BearerToken;
///
/// let token = BearerToken::new("s3cret");
/// let mut headers = HeaderMap::new();
/// assert!(!token.accepts(&headers));
/// headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s3cret"));
/// assert!(token.accepts(&headers));
/// headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer s3creT"));
/// assert!(!token.accepts(&headers));
/// ```
#[derive(Clone)]
pub struct BearerToken {
    expected: Box<[u8]>,
}

impl BearerToken {
    /// A check for `token`.
    pub fn new(token: &str) -> BearerToken {
        BearerToken {
            expected: token.as_bytes().into(),
        }
    }

    /// Whether `headers` carry the token. The comparison takes the same time wherever the
    /// first difference is, so response times do not reveal the token byte by byte.
    pub fn accepts(&self, headers: &HeaderMap) -> bool {
        let Some(presented) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        let same_len = presented.len() == self.expected.len();
        let diff = presented
            .bytes()
            .zip(self.expected.iter().cycle())
            .fold(0_u8, |acc, (a, b)| acc | (a ^ b));
        same_len && diff == 0 && !self.expected.is_empty()
    }
}

/// The token never appears in debug output.
impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}
