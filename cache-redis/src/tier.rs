//! [`RedisTier`]: the [`RemoteTier`] implementation.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use cache_core::{Fence, Lease, RemoteEvent, RemoteListener, RemoteTier, Stored, Token};
use parking_lot::RwLock;
use tokio::sync::watch;

use crate::backplane::{self, Wire};
use crate::breaker::Breaker;
use crate::call::Failure;
use crate::config::{RedisConfig, RedisTierBuilder};
use crate::conn::Conn;
use crate::error::{Error, Secrets};
use crate::health::{Counters, Health, RedisStats};
use crate::recovery::{self, Op, Queue};
use crate::{doctor, fenced, url::RedisUrl};

/// A Redis (single node or Cluster) [`RemoteTier`]. Cheap to clone; clones share connections.
/// The background tasks (backplane subscriber, recovery) stop when the last clone is dropped.
///
/// ```no_run
/// # async fn run() -> Result<(), cache_redis::Error> {
/// use cache_redis::RedisTier;
/// let single = RedisTier::connect("redis://:password@127.0.0.1:6379/0").await?;
/// let cluster = RedisTier::cluster(["redis://10.0.0.1:7000", "redis://10.0.0.2:7000"]).await?;
/// println!("{single:?}"); // the password is shown as ***
/// # let _ = cluster; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisTier {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: RedisConfig,
    pub(crate) conn: Conn,
    pub(crate) breaker: Breaker,
    pub(crate) recovery: Arc<Queue>,
    pub(crate) counters: Counters,
    pub(crate) secrets: Secrets,
    pub(crate) node_id: String,
    /// The node part of every token this tier makes (`node_id` is its hex form).
    pub(crate) node_num: u64,
    pub(crate) next_token: AtomicU64,
    pub(crate) listeners: RwLock<Vec<RemoteListener>>,
    /// Flag tables attached to a hash on this node (see [`flags`](crate::flags)).
    pub(crate) attached_flags: RwLock<Vec<crate::flags::Attached>>,
    /// Since when the backplane subscription is down (`None` while it is up); see
    /// [`backplane::watchdog`](crate::backplane).
    pub(crate) backplane_down_since: parking_lot::Mutex<Option<Instant>>,
    doctor: Option<String>,
    /// Dropped with the tier; its receivers stop the background tasks.
    _shutdown: watch::Sender<()>,
}

/// Milliseconds for `PX`/`PEXPIRE`, at least 1.
pub(crate) fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl RedisTier {
    /// Connects to one server: `redis://[user:password@]host[:port][/db]` or `rediss://…`.
    pub async fn connect(url: &str) -> Result<RedisTier, Error> {
        RedisTier::builder(url).connect().await
    }

    /// Connects to a Redis Cluster through any of its nodes.
    pub async fn cluster<S: AsRef<str>>(
        urls: impl IntoIterator<Item = S>,
    ) -> Result<RedisTier, Error> {
        RedisTier::cluster_builder(urls).connect().await
    }

    /// Configures a single-node tier.
    pub fn builder(url: &str) -> RedisTierBuilder {
        RedisTierBuilder::new([url], false)
    }

    /// Configures a Cluster tier from seed node URLs.
    pub fn cluster_builder<S: AsRef<str>>(urls: impl IntoIterator<Item = S>) -> RedisTierBuilder {
        RedisTierBuilder::new(urls, true)
    }

    pub(crate) async fn start(config: RedisConfig) -> Result<RedisTier, Error> {
        #[cfg(feature = "tls")]
        if config.urls.iter().any(RedisUrl::is_tls) {
            // Keep an application's own choice if it installed a provider first.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let secrets = Secrets::new(config.urls.iter().flat_map(RedisUrl::secrets));
        let conn = Conn::open(&config, &secrets).await?;
        crate::probe::permissions(&conn, &config, &secrets).await?;
        let doctor = doctor::check(&conn, config.command_timeout.max(config.connect_timeout)).await;
        let clients = config
            .urls
            .iter()
            .map(|u| redis::Client::open(u.expose()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| secrets.command(&e))?;
        let (shutdown, watch_rx) = watch::channel(());
        let node_num = fastrand::u64(..);
        let inner = Arc::new(Inner {
            breaker: Breaker::new(config.breaker_failures, config.breaker_cooldown),
            recovery: Arc::new(Queue::new(config.recovery_queue_size)),
            counters: Counters::default(),
            secrets,
            node_id: format!("{node_num:016x}"),
            node_num,
            next_token: AtomicU64::new(1),
            listeners: RwLock::new(Vec::new()),
            attached_flags: RwLock::new(Vec::new()),
            backplane_down_since: parking_lot::Mutex::new(Some(Instant::now())),
            doctor,
            conn,
            config,
            _shutdown: shutdown,
        });
        let subscribed = backplane::spawn(&inner, clients, watch_rx.clone());
        backplane::watchdog(&inner, watch_rx.clone());
        recovery::spawn(&inner, watch_rx, inner.config.recovery_interval);
        // Invalidations published from now on reach this node.
        let _ = tokio::time::timeout(inner.config.connect_timeout, subscribed).await;
        Ok(RedisTier { inner })
    }

    /// Breaker state, eviction-policy finding, backplane and recovery-queue status.
    pub fn health(&self) -> Health {
        let inner = &self.inner;
        Health {
            state: inner.breaker.state(),
            maxmemory_policy_warning: inner.doctor.clone(),
            backplane_connected: inner.backplane_down_since.lock().is_none(),
            queued_operations: inner.recovery.pending(),
        }
    }

    /// Counters of skipped, queued and replayed operations, timeouts and breaker trips.
    pub fn stats(&self) -> RedisStats {
        self.inner.counters.snapshot()
    }

    /// The settings this tier runs with.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// This tier's id on the backplane (random per tier).
    pub fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    pub(crate) fn inner(&self) -> Arc<Inner> {
        Arc::clone(&self.inner)
    }
}

impl fmt::Debug for RedisTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTier")
            .field("urls", &self.inner.config.urls)
            .field("cluster", &self.inner.config.cluster)
            .field("node_id", &self.inner.node_id)
            .field("health", &self.health())
            .finish()
    }
}

impl Inner {
    pub(crate) fn set_backplane(&self, up: bool) {
        let mut since = self.backplane_down_since.lock();
        match (up, *since) {
            (true, _) => *since = None,
            (false, None) => *since = Some(Instant::now()),
            (false, Some(_)) => {}
        }
    }

    /// Writes an entry (no queueing) as the write `token`: skips and unlinks values over the
    /// size cap.
    pub(crate) async fn write(
        &self,
        key: &str,
        envelope: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
        token: Token,
    ) -> Result<(), Failure> {
        if envelope.len() > self.config.max_value_size {
            self.skip_oversized(envelope.len());
            // An older value must not be served in place of the one just computed.
            return self.unlink(key).await;
        }
        let value = crate::fenced::entry_value(token, envelope);
        if tags.is_empty() {
            self.set_plain(key, &value, millis(ttl)).await
        } else {
            self.set_tagged(key, &value, ttl, tags).await
        }
    }

    pub(crate) fn skip_oversized(&self, bytes: usize) {
        Counters::bump(&self.counters.oversized_skipped);
        tracing::debug!(
            bytes,
            max = self.config.max_value_size,
            "value too large for Redis; not written"
        );
    }

    pub(crate) async fn unlink(&self, key: &str) -> Result<(), Failure> {
        let mut cmd = redis::cmd("UNLINK");
        cmd.arg(key);
        self.call(self.conn.query::<i64>(&cmd)).await.map(drop)
    }

    pub(crate) async fn send(&self, event: &RemoteEvent) -> Result<(), Failure> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.config.channel)
            .arg(backplane::encode(event, &self.node_id));
        self.call(self.conn.query::<i64>(&cmd)).await.map(drop)
    }

    /// Queues `op` if `result` failed because Redis was unreachable.
    fn settle(
        &self,
        result: Result<(), Failure>,
        op: impl FnOnce() -> Op,
    ) -> cache_core::Result<()> {
        match result {
            Err(Failure::Outage(error)) => {
                self.enqueue(op());
                Err(error.into())
            }
            other => other.map_err(Into::into),
        }
    }
}

#[async_trait::async_trait]
impl RemoteTier for RedisTier {
    async fn get(&self, key: &str) -> cache_core::Result<Option<Vec<u8>>> {
        Ok(self.read(key).await?.into_entry())
    }

    async fn get_many(&self, keys: &[String]) -> cache_core::Result<Vec<Option<Vec<u8>>>> {
        let found = self.read_many(keys).await?;
        Ok(found.into_iter().map(Stored::into_entry).collect())
    }

    async fn read(&self, key: &str) -> cache_core::Result<Stored> {
        let mut cmd = redis::cmd("GET");
        cmd.arg(key);
        let found: Option<Vec<u8>> = self.inner.call(self.inner.conn.query(&cmd)).await?;
        if self.inner.recovery.covers(key) {
            // A change of this node's to the key is still queued: what Redis holds may be
            // what it invalidated.
            return Ok(Stored::Absent);
        }
        Ok(found.map_or(Stored::Absent, fenced::parse))
    }

    async fn read_many(&self, keys: &[String]) -> cache_core::Result<Vec<Stored>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        cmd.arg(keys);
        let found: Vec<Option<Vec<u8>>> = self.inner.call(self.inner.conn.query(&cmd)).await?;
        Ok(found
            .into_iter()
            .zip(keys)
            .map(|(bytes, key)| match bytes {
                Some(bytes) if !self.inner.recovery.covers(key) => fenced::parse(bytes),
                _ => Stored::Absent,
            })
            .collect())
    }

    async fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
    ) -> cache_core::Result<()> {
        self.write(key, value, ttl, tags).await.map(drop)
    }

    async fn write(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
    ) -> cache_core::Result<Option<Token>> {
        let inner = &self.inner;
        let token = inner.next_token();
        let result = inner.write(key, value, ttl, tags, token).await;
        if result.is_ok() {
            inner.recovery.forget_key(key);
        }
        // Replayed later as a delete, never as this write: by then something newer may have
        // happened to the key elsewhere, and a delete is always safe.
        inner
            .settle(result, || Op::Delete(key.to_string()))
            .map(|()| Some(token))
    }

    async fn fill(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
        fence: Fence,
    ) -> cache_core::Result<Option<Token>> {
        // Never queued: a fill that did not land is dropped, it is only a cache fill.
        Ok(self.inner.fill(key, value, ttl, tags, fence).await?)
    }

    async fn delete(&self, key: &str) -> cache_core::Result<()> {
        let result = self.inner.unlink(key).await;
        if result.is_ok() {
            self.inner.recovery.forget_key(key);
        }
        self.inner.settle(result, || Op::Delete(key.to_string()))
    }

    async fn try_lease(
        &self,
        key: &str,
        ttl: Duration,
        tags: &[Arc<str>],
        takeover: Option<Token>,
    ) -> cache_core::Result<Lease> {
        if self.inner.recovery.covers(key) {
            // Redis may still hold what this node invalidated; a lease cannot be taken over
            // it, and waiting for one would stall until the replay. Load without a fence (the
            // engine then writes only locally).
            return Err(cache_core::Error::RemoteUnavailable);
        }
        Ok(self.inner.try_lease(key, ttl, tags, takeover).await?)
    }

    async fn release_lease(&self, key: &str, token: Token) -> cache_core::Result<()> {
        Ok(self.inner.release_lease(key, token).await?)
    }

    fn node_token_id(&self) -> Option<u64> {
        Some(self.inner.node_num)
    }

    async fn publish(&self, event: RemoteEvent) -> cache_core::Result<()> {
        let result = self.inner.send(&event).await;
        self.inner
            .settle(result, || Op::Publish(Wire::from(&event)))
    }

    fn subscribe(&self, listener: RemoteListener) {
        self.inner.listeners.write().push(listener);
    }

    async fn invalidate_tag(&self, tag: &str) -> cache_core::Result<()> {
        let result = self.inner.drop_tag(tag).await;
        if result.is_ok() {
            self.inner.recovery.forget_tag(tag);
        }
        self.inner.settle(result, || Op::DropTag(tag.to_string()))
    }
}
