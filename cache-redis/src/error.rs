//! The crate's one error type. Messages never contain a password: URLs are shown redacted and
//! messages that come from the server or the client library are scrubbed of known secrets.
//!
//! That is why several variants carry a `String` rather than their source error: a
//! `redis::RedisError` (and the `Display` of anything holding it) may quote the connection URL
//! or a reply that echoes a credential, and a source chain is printed as it is by whoever
//! reports it. Those variants keep the scrubbed text; errors that cannot hold a secret
//! (a URL parse error, a flag spec error) are kept as `#[source]`.

use std::time::Duration;

/// What can go wrong while connecting to or talking to Redis.
///
/// ```
/// let err = cache_redis::RedisTier::builder("http://user:hunter2@example.com").config().unwrap_err();
/// assert!(!err.to_string().contains("hunter2"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a `redis://` or `rediss://` URL.
    #[error("invalid Redis URL {url}: {reason}")]
    InvalidUrl {
        /// The URL with its credentials replaced by `***`.
        url: String,
        /// Why it was rejected.
        reason: String,
        /// The parser's error when the URL did not parse at all (its messages never quote
        /// the input, so no password).
        #[source]
        source: Option<url::ParseError>,
    },
    /// A configuration value is unusable (no URL, zero timeout, `rediss://` without TLS, …).
    /// The text is the crate's own: there is no underlying error.
    #[error("invalid Redis tier configuration: {0}")]
    Config(String),
    /// A flag spec given to [`RedisFlagSource::publish`](crate::flags::RedisFlagSource::publish)
    /// does not parse; nothing was written.
    #[error("invalid flag spec")]
    InvalidFlags(#[source] cache_core::flags::FlagParseError),
    /// The first connection failed (refused, bad credentials, TLS handshake, …).
    #[error("could not connect to {url}: {message}")]
    Connect {
        /// The URL with its credentials replaced by `***`.
        url: String,
        /// What the client library reported, scrubbed of credentials (a String, not the
        /// source error: see the module docs).
        message: String,
    },
    /// Redis did not answer in time.
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    /// A command failed (connection lost, error reply, unexpected reply). The client
    /// library's message, scrubbed of credentials (see the module docs).
    #[error("Redis command failed: {0}")]
    Command(String),
    /// Redis answered that it cannot serve the command right now (`LOADING`, `BUSY`,
    /// `READONLY`, `MASTERDOWN`, `TRYAGAIN`, `CLUSTERDOWN`, `MISCONF`, `NOREPLICAS`, `OOM`).
    /// Writes and invalidations that fail this way are queued and replayed, like in an outage.
    /// The reply as Redis worded it, scrubbed of credentials.
    #[error("Redis cannot serve the command right now: {0}")]
    Unavailable(String),
    /// The configured user may not run a command the tier needs, or its credentials were
    /// refused (`NOPERM`, `WRONGPASS`, `NOAUTH`): a configuration error. The message names the
    /// command where Redis or the start-up check does; it never contains a password.
    #[error("Redis refused for lack of permission (check the user's ACL): {0}")]
    Permission(String),
    /// The circuit breaker is open: Redis was not asked.
    #[error("Redis skipped: circuit breaker open after repeated failures")]
    BreakerOpen,
}

impl From<Error> for cache_core::Error {
    fn from(error: Error) -> cache_core::Error {
        match error {
            Error::Timeout(after) => cache_core::Error::RemoteTimeout(after),
            Error::BreakerOpen => cache_core::Error::RemoteUnavailable,
            other => cache_core::Error::remote(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_map_to_remote_timeout() {
        let core: cache_core::Error = Error::Timeout(Duration::from_millis(250)).into();
        assert_eq!(
            core,
            cache_core::Error::RemoteTimeout(Duration::from_millis(250))
        );
        let core: cache_core::Error = Error::BreakerOpen.into();
        assert_eq!(core, cache_core::Error::RemoteUnavailable);
        assert_eq!(core.kind(), "unavailable");
    }

    #[test]
    fn permission_errors_reach_the_engine_as_remote_errors_that_say_so() {
        let error = Error::Permission("UNLINK: NOPERM no permissions to run 'unlink'".into());
        let core: cache_core::Error = error.into();
        assert_eq!(core.kind(), "remote");
        assert!(core.to_string().contains("lack of permission"), "{core}");
        assert!(core.to_string().contains("UNLINK"), "{core}");
    }
}
