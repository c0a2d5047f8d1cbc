//! The passwords of the configured URLs, and scrubbing them out of every message that leaves
//! the client: errors, log lines, `Debug` output.

use crate::error::Error;

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
        self.scrub(super::reply::describe(error))
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
}
