//! [`RedisTierBuilder`]: collects the settings of a [`RedisTier`], checks them and connects.

use std::fmt;
use std::time::Duration;

use super::RedisTier;
use crate::client::{RedisConfig, RedisUrl};
use crate::error::Error;

/// Builds a [`RedisTier`]: [`RedisTier::builder`] (single node) or
/// [`RedisTier::cluster_builder`].
///
/// ```no_run
/// use std::time::Duration;
/// # async fn run() -> Result<(), cache_redis::Error> {
/// let tier = cache_redis::RedisTier::builder("redis://:secret@127.0.0.1:6379/0")
///     .command_timeout(Duration::from_millis(100))
///     .channel("shop:invalidate")
///     .tag_prefix("shop:tag:")
///     .connect()
///     .await?;
/// # let _ = tier; Ok(()) }
/// ```
#[must_use]
pub struct RedisTierBuilder {
    config: Result<RedisConfig, Error>,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(mut self, value: impl Into<$ty>) -> RedisTierBuilder {
            if let Ok(config) = &mut self.config {
                config.$name = value.into();
            }
            self
        }
    )*};
}

impl RedisTierBuilder {
    pub(crate) fn new<S: AsRef<str>>(
        urls: impl IntoIterator<Item = S>,
        cluster: bool,
    ) -> RedisTierBuilder {
        let urls: Result<Vec<RedisUrl>, Error> = urls
            .into_iter()
            .map(|u| RedisUrl::parse(u.as_ref()))
            .collect();
        RedisTierBuilder {
            config: urls.map(|urls| RedisConfig::new(urls, cluster)),
        }
    }

    setters! {
        /// Bound on every command (default 250 ms).
        command_timeout: Duration,
        /// Bound on establishing a connection (default 2 s).
        connect_timeout: Duration,
        /// See [`RedisConfig::lease_prefix`].
        lease_prefix: String,
        /// Prefix of tag sets (default `"tag:"`).
        tag_prefix: String,
        /// Backplane channel (default `"cache:invalidate"`).
        channel: String,
        /// Largest value written, in bytes (default 1 MiB).
        max_value_size: usize,
        /// Consecutive failures that open the breaker (default 5).
        breaker_failures: u32,
        /// Fail-fast period of the open breaker (default 2 s).
        breaker_cooldown: Duration,
        /// Capacity of the recovery queue in operations (default 1024).
        recovery_queue_size: usize,
        /// Unused since failed writes are queued as deletes (kept for compatibility).
        recovery_queue_bytes: usize,
        /// Probe period while operations are queued (default 100 ms).
        recovery_interval: Duration,
        /// See [`RedisConfig::backplane_trust`].
        backplane_trust: Duration,
        /// How nodes hear of changed keys; see [`Invalidation`](crate::Invalidation) for when
        /// to use which.
        invalidation: crate::Invalidation,
        /// See [`RedisConfig::tracking_prefix`].
        tracking_prefix: String,
    }

    /// The checked configuration, without connecting.
    pub fn config(&self) -> Result<RedisConfig, Error> {
        let config = self.config.clone()?;
        config.validate()?;
        Ok(config)
    }

    /// Connects (and for a Cluster discovers the slots), checks that the user may run every
    /// command the tier sends (else [`Error::Permission`] naming the refused commands), checks
    /// the server's eviction policy and starts the backplane subscriber.
    pub async fn connect(self) -> Result<RedisTier, Error> {
        RedisTier::start(self.config()?).await
    }
}

impl fmt::Debug for RedisTierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.config {
            Ok(config) => f.debug_tuple("RedisTierBuilder").field(config).finish(),
            Err(error) => f.debug_tuple("RedisTierBuilder").field(error).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_issue() {
        let config = RedisTier::builder("redis://127.0.0.1").config().unwrap();
        assert_eq!(config.command_timeout, Duration::from_millis(250));
        assert_eq!(config.max_value_size, 1 << 20);
        assert_eq!(config.breaker_failures, 5);
        assert_eq!(config.breaker_cooldown, Duration::from_secs(2));
        assert_eq!(config.channel, "cache:invalidate");
        assert_eq!(config.lease_prefix, "lease:");
    }

    #[test]
    fn rejects_unusable_settings() {
        let zero = RedisTier::builder("redis://h").command_timeout(Duration::ZERO);
        assert!(matches!(zero.config(), Err(Error::Config(_))));
        let none = RedisTier::cluster_builder(Vec::<String>::new());
        assert!(matches!(none.config(), Err(Error::Config(_))));
    }

    #[test]
    fn key_tracking_needs_a_prefix_and_is_off_by_default() {
        let default = RedisTier::builder("redis://h").config().unwrap();
        assert_eq!(default.invalidation, crate::Invalidation::Backplane);
        let unprefixed = RedisTier::builder("redis://h").invalidation(crate::Invalidation::Both);
        assert!(matches!(unprefixed.config(), Err(Error::Config(_))));
        let prefixed = unprefixed.tracking_prefix("app:").config().unwrap();
        assert!(prefixed.invalidation.tracks() && prefixed.invalidation.publishes_keys());
    }
}
