//! [`WriteBackConfig`] and its builder.

use std::time::Duration;

use cache_redis::RedisTier;
use opentelemetry::metrics::Meter;

use super::WriteBack;
use crate::Error;

/// The settings of a [`WriteBack`]. Every process sharing a write-back `name` must use the
/// same `key_prefix` and `shards` (they decide where an entity's changes live).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WriteBackConfig {
    /// Part of every key: `{<key_prefix><name>:<shard>}:…`.
    pub name: String,
    /// Default `"wb:"`.
    pub key_prefix: String,
    /// Default 1 on a single node, 8 on a Cluster (spreads the write-back over its masters).
    pub shards: usize,
    /// TTL of every key, refreshed on each write, claim and release (default 24 h). See the
    /// crate documentation for what it must exceed.
    pub pending_ttl: Duration,
    /// How long a claimed batch belongs to its flusher; after that any flusher may take it
    /// over (default 30 s). Must exceed the sink's slowest successful write.
    pub claim_timeout: Duration,
    /// Most entities moved into one batch (default 500).
    pub max_batch_entities: usize,
    /// Most batches per shard claimed and not yet acknowledged (default 16).
    pub max_inflight: usize,
    /// Backoff after the first failed delivery of a batch (default 1 s), doubled per attempt.
    pub retry_min: Duration,
    /// Longest backoff (default 5 min).
    pub retry_max: Duration,
    /// Most batches one flush pass delivers per shard (default 64), so a pass always ends.
    pub max_batches_per_pass: usize,
    /// Replicas that must hold a claim before its batch goes to the sink (`WAIT`), and a
    /// write before it is acknowledged if `replicated_writes`. `None` (default): every
    /// replica the shard's primary reports online at that moment (none on a lone server:
    /// no wait). See "Failover" in the crate documentation.
    pub replicas: Option<usize>,
    /// Longest `WAIT` for those replicas (default 1 s); a claim not confirmed in time is put
    /// back undelivered, a write not confirmed fails with [`Error::Timeout`].
    pub replication_timeout: Duration,
    /// Whether writes wait for the replicas too (default `false`): then `Ok` means the
    /// change survives a failover, at the cost of a replica round trip per write.
    pub replicated_writes: bool,
}

/// Builds a [`WriteBack`]: [`WriteBack::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// # async fn run(tier: cache_redis::RedisTier) -> Result<(), cache_writeback::Error> {
/// let likes = cache_writeback::WriteBack::builder(&tier, "likes")
///     .pending_ttl(Duration::from_secs(2 * 3600))
///     .claim_timeout(Duration::from_secs(60))
///     .build()?;
/// # let _ = likes; Ok(()) }
/// ```
#[must_use]
pub struct WriteBackBuilder {
    tier: RedisTier,
    config: WriteBackConfig,
    meter: Option<Meter>,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> WriteBackBuilder {
            self.config.$name = value;
            self
        }
    )*};
}

impl WriteBackBuilder {
    pub(crate) fn new(tier: &RedisTier, name: &str) -> WriteBackBuilder {
        WriteBackBuilder {
            tier: tier.clone(),
            config: WriteBackConfig {
                name: name.to_string(),
                key_prefix: "wb:".into(),
                shards: if tier.config().cluster { 8 } else { 1 },
                pending_ttl: Duration::from_secs(24 * 3600),
                claim_timeout: Duration::from_secs(30),
                max_batch_entities: 500,
                max_inflight: 16,
                retry_min: Duration::from_secs(1),
                retry_max: Duration::from_secs(300),
                max_batches_per_pass: 64,
                replicas: None,
                replication_timeout: Duration::from_secs(1),
                replicated_writes: false,
            },
            meter: None,
        }
    }

    setters! {
        /// Key prefix (default `"wb:"`).
        key_prefix: String,
        /// Number of shards (default 1 single node, 8 Cluster).
        shards: usize,
        /// TTL of every key (default 24 h).
        pending_ttl: Duration,
        /// Ownership period of a claimed batch (default 30 s).
        claim_timeout: Duration,
        /// Most entities per batch (default 500).
        max_batch_entities: usize,
        /// Most unacknowledged batches per shard (default 16).
        max_inflight: usize,
        /// Most batches per shard and pass (default 64).
        max_batches_per_pass: usize,
        /// Longest wait for replicas to confirm a claim or write (default 1 s).
        replication_timeout: Duration,
        /// Whether writes wait for the replicas before `Ok` (default `false`).
        replicated_writes: bool,
    }

    /// Exactly `n` replicas must confirm each claim (and write, with `replicated_writes`);
    /// `0` never waits. Default: every replica online at that moment. A fixed `n` keeps
    /// the guarantee while a replica is disconnected or resyncing (flushing then pauses)
    /// where the default would go on without it.
    pub fn replicas(mut self, n: usize) -> WriteBackBuilder {
        self.config.replicas = Some(n);
        self
    }

    /// Backoff of failed deliveries: `min` after the first, doubling up to `max`.
    pub fn retry_backoff(mut self, min: Duration, max: Duration) -> WriteBackBuilder {
        self.config.retry_min = min;
        self.config.retry_max = max.max(min);
        self
    }

    /// Reports the `cache.write_back.*` instruments through `meter`.
    pub fn meter(mut self, meter: Meter) -> WriteBackBuilder {
        self.meter = Some(meter);
        self
    }

    /// Checks the settings and builds the write-back (no Redis round trip).
    pub fn build(self) -> Result<WriteBack, Error> {
        let c = &self.config;
        let bad = |what: &str| Err(Error::Config(format!("write-back: {what}")));
        if c.name.is_empty() || c.name.contains(['{', '}']) || c.key_prefix.contains(['{', '}']) {
            return bad("the name must be non-empty, and name and prefix free of braces");
        }
        if c.shards == 0 || c.max_batch_entities == 0 || c.max_inflight == 0 {
            return bad("shards, max_batch_entities and max_inflight must be at least 1");
        }
        if c.max_batches_per_pass == 0 || c.claim_timeout.is_zero() || c.retry_min.is_zero() {
            return bad("max_batches_per_pass, claim_timeout and retry_min must be positive");
        }
        if c.replication_timeout < Duration::from_millis(1) {
            // `WAIT n 0` would block forever.
            return bad("replication_timeout must be at least 1 ms");
        }
        if c.pending_ttl < c.claim_timeout * 4 {
            return bad("pending_ttl must be at least 4 × claim_timeout");
        }
        Ok(WriteBack::from_parts(
            &self.tier,
            self.config,
            self.meter.as_ref(),
        ))
    }
}

impl std::fmt::Debug for WriteBackBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WriteBackBuilder")
            .field(&self.config)
            .finish()
    }
}
