//! Settings of a [`RedisTier`](crate::RedisTier); the builder that collects them is
//! [`RedisTierBuilder`](crate::RedisTierBuilder).

use std::fmt;
use std::time::Duration;

use super::url::RedisUrl;
use crate::error::Error;
use crate::invalidation::Invalidation;

/// The settings of a [`RedisTier`](crate::RedisTier); read them with
/// [`RedisTier::config`](crate::RedisTier::config). `Debug` never shows a password.
#[derive(Clone)]
#[non_exhaustive]
pub struct RedisConfig {
    /// The server (single node) or the seed nodes (Cluster).
    pub urls: Vec<RedisUrl>,
    /// Whether `urls` are Cluster seed nodes.
    pub cluster: bool,
    /// Bound on every command, including reconnecting (default 250 ms).
    pub command_timeout: Duration,
    /// Bound on establishing a connection at start-up and for the subscriber (default 2 s).
    pub connect_timeout: Duration,
    /// Prefix of the keys the start-up permission probe touches (default `"lease:"`). Leases
    /// themselves live under their entry's key (see [`fenced`](crate::fenced)).
    pub lease_prefix: String,
    /// Prefix of tag sets (default `"tag:"`). Give each application sharing a Redis its own.
    pub tag_prefix: String,
    /// Pub/sub channel of the invalidation backplane (default `"cache:invalidate"`).
    pub channel: String,
    /// Largest envelope written, in bytes after compression (default 1 MiB). Larger values
    /// are not written (the key is unlinked instead, so no older value is served) and counted.
    pub max_value_size: usize,
    /// Consecutive failures or timeouts that open the circuit breaker (default 5).
    pub breaker_failures: u32,
    /// How long the open breaker fails fast before letting one probe through (default 2 s).
    pub breaker_cooldown: Duration,
    /// Most operations kept for replay while Redis is unreachable (default 1024). When it
    /// overflows, every node is told to clear its local tier after recovery.
    pub recovery_queue_size: usize,
    /// Most value bytes kept in the recovery queue (default 16 MiB); beyond it a queued write
    /// becomes a queued delete.
    pub recovery_queue_bytes: usize,
    /// How often the recovery task probes while operations are queued (default 100 ms).
    pub recovery_interval: Duration,
    /// How long a node trusts its local tier while its backplane subscription is down: it
    /// drops the whole local tier this long after the loss, and again every such period until
    /// it is subscribed again (and once more then). A silent loss (no error, no answer) is
    /// noticed within half this period (the subscription is pinged that often, at most every
    /// 5 s) plus the connect timeout, and the drop follows within a quarter period of the
    /// deadline: at most 1.75 × this + the connect timeout after the loss. Default 2 s.
    pub backplane_trust: Duration,
    /// How nodes hear of changed keys (default [`Invalidation::Backplane`]; see there for
    /// when to use which).
    pub invalidation: Invalidation,
    /// The key prefix Redis tracks for [`Invalidation::Tracking`] and [`Invalidation::Both`]:
    /// the cache's namespace followed by `:` (e.g. `"app:"` for `.namespace("app")`). Required
    /// by those modes; every key under it that changes in Redis is dropped locally.
    pub tracking_prefix: String,
}

impl RedisConfig {
    pub(crate) fn new(urls: Vec<RedisUrl>, cluster: bool) -> RedisConfig {
        RedisConfig {
            urls,
            cluster,
            command_timeout: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(2),
            lease_prefix: "lease:".into(),
            tag_prefix: "tag:".into(),
            channel: "cache:invalidate".into(),
            max_value_size: 1 << 20,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(2),
            recovery_queue_size: 1024,
            recovery_queue_bytes: 16 << 20,
            recovery_interval: Duration::from_millis(100),
            backplane_trust: Duration::from_secs(2),
            invalidation: Invalidation::Backplane,
            tracking_prefix: String::new(),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let bad = |what: &str| Err(Error::Config(what.to_string()));
        if self.urls.is_empty() {
            return bad("at least one URL is required");
        }
        if !self.cluster && self.urls.len() > 1 {
            return bad("several URLs are only allowed for a Cluster");
        }
        if self.command_timeout.is_zero() || self.connect_timeout.is_zero() {
            return bad("timeouts must be greater than zero");
        }
        if self.backplane_trust < Duration::from_millis(100) {
            return bad("backplane_trust must be at least 100 ms");
        }
        if self.breaker_failures == 0 {
            return bad("breaker_failures must be at least 1");
        }
        if self.channel.is_empty() {
            return bad("the backplane channel must not be empty");
        }
        if self.invalidation.tracks() && self.tracking_prefix.is_empty() {
            return bad("key tracking needs a tracking_prefix (the namespace followed by `:`)");
        }
        if self.urls.iter().any(RedisUrl::is_tls) && !cfg!(feature = "tls") {
            return bad("rediss:// needs the `tls` feature of cache-redis");
        }
        Ok(())
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("urls", &self.urls)
            .field("cluster", &self.cluster)
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("lease_prefix", &self.lease_prefix)
            .field("tag_prefix", &self.tag_prefix)
            .field("channel", &self.channel)
            .field("max_value_size", &self.max_value_size)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_cooldown", &self.breaker_cooldown)
            .field("recovery_queue_size", &self.recovery_queue_size)
            .field("invalidation", &self.invalidation)
            .field("tracking_prefix", &self.tracking_prefix)
            .finish_non_exhaustive()
    }
}
