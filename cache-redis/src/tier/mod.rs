//! [`RedisTier`]: the [`RemoteTier`](cache_core::RemoteTier) implementation, composed of the
//! layers below it: the [`Client`] (connection, breaker, timeouts) at the bottom; the
//! backplane, tag sets, recovery queue, fenced writes and flag tables above it, each owning
//! its own state. [`remote`] maps the engine's calls onto them.

mod builder;
mod remote;

pub use self::builder::RedisTierBuilder;

use std::fmt;
use std::sync::Arc;

use crate::backplane::Backplane;
use crate::client::{Client, RedisConfig};
use crate::error::Error;
use crate::flags::{FlagTables, RedisFlagSource};
use crate::health::{Health, RedisStats};
use crate::leases::Leases;
use crate::recovery::Recovery;
use crate::tags::Tags;
use crate::tracking::Tracking;

/// A Redis (single node or Cluster) [`RemoteTier`](cache_core::RemoteTier). Cheap to clone;
/// clones share connections. The background tasks (backplane subscriber, recovery) stop when
/// the last clone is dropped.
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
    layers: Arc<Layers>,
}

/// What a tier is made of. Each layer holds the ones it calls; the tier holds them all.
struct Layers {
    client: Arc<Client>,
    backplane: Arc<Backplane>,
    tags: Arc<Tags>,
    recovery: Arc<Recovery>,
    leases: Leases,
    flag_tables: Arc<FlagTables>,
    /// Key tracking, when the tier's [`Invalidation`](crate::Invalidation) mode asks for it.
    tracking: Option<Arc<Tracking>>,
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

    async fn start(config: RedisConfig) -> Result<RedisTier, Error> {
        let connect_timeout = config.connect_timeout;
        let client = Arc::new(Client::connect(config).await?);
        let node = fastrand::u64(..);
        let (backplane, subscribed) = Backplane::start(Arc::clone(&client), format!("{node:016x}"));
        let tags = Arc::new(Tags::new(Arc::clone(&client)));
        let recovery = Recovery::start(
            Arc::clone(&client),
            Arc::clone(&tags),
            Arc::clone(&backplane),
        );
        let leases = Leases::new(
            Arc::clone(&client),
            Arc::clone(&tags),
            Arc::clone(&recovery),
            node,
        );
        let tracking = client
            .config()
            .invalidation
            .tracks()
            .then(|| Tracking::start(Arc::clone(&client)));
        // Invalidations published from now on reach this node.
        let _ = tokio::time::timeout(connect_timeout, subscribed).await;
        let tracking = match tracking {
            Some((tracking, enabled)) => {
                // Changes made from now on are reported to this node.
                let _ = tokio::time::timeout(connect_timeout, enabled).await;
                Some(tracking)
            }
            None => None,
        };
        Ok(RedisTier {
            layers: Arc::new(Layers {
                client,
                backplane,
                tags,
                recovery,
                leases,
                flag_tables: Arc::default(),
                tracking,
            }),
        })
    }

    /// Breaker state, eviction-policy finding, backplane, key-tracking and recovery-queue
    /// status.
    pub fn health(&self) -> Health {
        let layers = &self.layers;
        Health {
            state: layers.client.breaker_state(),
            maxmemory_policy_warning: layers.client.policy_warning(),
            backplane_connected: layers.backplane.is_connected(),
            tracking_connected: layers.tracking.as_ref().map(|t| t.is_connected()),
            queued_operations: layers.recovery.pending(),
        }
    }

    /// Waits, at most `within`, until the changes queued during an outage (deletes, tag
    /// drops, announcements) are replayed and announced; returns how many are still pending
    /// (0: none). For a graceful shutdown: what is still queued when the process exits is lost,
    /// and the entries it would have dropped live until their TTL.
    ///
    /// ```no_run
    /// # async fn run(tier: cache_redis::RedisTier) {
    /// use std::time::Duration;
    /// let left = tier.replay_pending(Duration::from_secs(5)).await;
    /// if left > 0 {
    ///     eprintln!("{left} invalidations could not reach Redis before exit");
    /// }
    /// # }
    /// ```
    pub async fn replay_pending(&self, within: std::time::Duration) -> usize {
        self.layers.recovery.drain(within).await
    }

    /// Counters of skipped, queued and replayed operations, timeouts and breaker trips.
    pub fn stats(&self) -> RedisStats {
        let layers = &self.layers;
        let mut stats = RedisStats::default();
        layers.client.stats(&mut stats);
        layers.backplane.stats(&mut stats);
        layers.recovery.stats(&mut stats);
        layers.leases.stats(&mut stats);
        if let Some(tracking) = &layers.tracking {
            tracking.stats(&mut stats);
        }
        stats
    }

    /// The settings this tier runs with.
    pub fn config(&self) -> &RedisConfig {
        self.layers.client.config()
    }

    /// This tier's id on the backplane (random per tier).
    pub fn node_id(&self) -> &str {
        self.layers.backplane.node_id()
    }

    /// The bottom layer every command goes through (breaker, timeouts, error classification),
    /// for crates that add their own commands on the same Redis, such as `cache-writeback`.
    ///
    /// ```no_run
    /// # async fn run(tier: cache_redis::RedisTier) {
    /// let client = std::sync::Arc::clone(tier.client());
    /// assert_eq!(client.config().urls, tier.config().urls);
    /// # }
    /// ```
    pub fn client(&self) -> &Arc<Client> {
        &self.layers.client
    }

    /// A flag source over the hash `hash` (e.g. `"<namespace>:flags"`); see
    /// [`RedisFlagSource`].
    pub fn flag_source(&self, hash: impl Into<String>) -> RedisFlagSource {
        let layers = &self.layers;
        RedisFlagSource::new(
            Arc::clone(&layers.client),
            Arc::clone(&layers.backplane),
            Arc::clone(&layers.flag_tables),
            hash.into(),
        )
    }
}

impl fmt::Debug for RedisTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self.config();
        f.debug_struct("RedisTier")
            .field("urls", &config.urls)
            .field("cluster", &config.cluster)
            .field("node_id", &self.node_id())
            .field("health", &self.health())
            .finish()
    }
}
