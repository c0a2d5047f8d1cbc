//! The crate's one error type. Messages never contain a password: URLs are shown redacted and
//! messages that come from the server or the client library are scrubbed of known secrets.

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
    },
    /// A configuration value is unusable (no URL, zero timeout, `rediss://` without TLS, …).
    #[error("invalid Redis tier configuration: {0}")]
    Config(String),
    /// The first connection failed (refused, bad credentials, TLS handshake, …).
    #[error("could not connect to {url}: {message}")]
    Connect {
        /// The URL with its credentials replaced by `***`.
        url: String,
        /// What the client library reported, scrubbed of credentials.
        message: String,
    },
    /// Redis did not answer in time.
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    /// A command failed (connection lost, error reply, unexpected reply).
    #[error("Redis command failed: {0}")]
    Command(String),
    /// Redis answered that it cannot serve the command right now (`LOADING`, `BUSY`,
    /// `READONLY`, `MASTERDOWN`, `TRYAGAIN`, `CLUSTERDOWN`, `MISCONF`, `NOREPLICAS`, `OOM`).
    /// Writes and invalidations that fail this way are queued and replayed, like in an outage.
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
            other => cache_core::Error::Remote(other.to_string()),
        }
    }
}

/// Secrets to scrub from messages: the passwords of the configured URLs, raw and
/// percent-encoded.
#[derive(Clone, Default)]
pub(crate) struct Secrets(Vec<String>);

impl Secrets {
    pub(crate) fn new(passwords: impl IntoIterator<Item = String>) -> Secrets {
        let mut all: Vec<String> = passwords.into_iter().filter(|p| !p.is_empty()).collect();
        all.sort_by_key(|p| std::cmp::Reverse(p.len()));
        all.dedup();
        Secrets(all)
    }

    /// `message` with every secret replaced by `***`.
    pub(crate) fn scrub(&self, message: impl Into<String>) -> String {
        let mut message = message.into();
        for secret in &self.0 {
            if message.contains(secret.as_str()) {
                message = message.replace(secret.as_str(), "***");
            }
        }
        message
    }

    /// A client-library error as a scrubbed [`Error::Command`].
    pub(crate) fn command(&self, error: &redis::RedisError) -> Error {
        Error::Command(self.scrub(error.to_string()))
    }

    /// An error reply in Redis's words (`NOPERM this user …`), scrubbed.
    pub(crate) fn reply(&self, error: &redis::RedisError) -> String {
        self.scrub(crate::reply::describe(error))
    }
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_every_secret() {
        let secrets = Secrets::new(["pa%40ss".to_string(), "pa@ss".to_string()]);
        assert_eq!(
            secrets.scrub("auth pa@ss then pa%40ss"),
            "auth *** then ***"
        );
        assert!(!format!("{secrets:?}").contains("pa"));
    }

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
