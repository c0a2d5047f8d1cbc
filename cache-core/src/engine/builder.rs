//! Building a [`Cache`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::generation::Generation;
use super::invalidate::LocalDrop;
use super::{Cache, Inner};
use crate::codec::{Codec, CodecConfig};
use crate::flags::Flags;
use crate::metrics::{Metrics, Recorder};
use crate::tier::local::LocalTier;
use crate::tier::remote::RemoteTier;
use opentelemetry::metrics::Meter;

/// Distinguishes caches in the (process-wide) request tier.
static NEXT_CACHE_ID: AtomicU64 = AtomicU64::new(1);

/// Configures a [`Cache`]. Defaults: namespace `"app"`, a 64 MiB local tier, no remote tier,
/// every flag on, a 5-minute default TTL, the default [`CodecConfig`].
///
/// ```
/// use std::time::Duration;
/// use cache_core::{Cache, LocalTier, tier::memory::MemoryRemote};
/// let cache = Cache::builder()
///     .namespace("shop")
///     .local(LocalTier::new(16 << 20))
///     .remote(MemoryRemote::new())
///     .default_ttl(Duration::from_secs(60))
///     .build();
/// assert_eq!(cache.namespace(), "shop");
/// assert!(cache.has_remote());
/// ```
#[must_use]
pub struct CacheBuilder {
    namespace: String,
    local: Option<LocalTier>,
    remote: Option<Arc<dyn RemoteTier>>,
    flags: Flags,
    default_ttl: Duration,
    codec: CodecConfig,
    meter: Option<Meter>,
}

impl Default for CacheBuilder {
    fn default() -> Self {
        CacheBuilder {
            namespace: "app".to_string(),
            local: Some(LocalTier::new(64 * 1024 * 1024)),
            remote: None,
            flags: Flags::new(),
            default_ttl: Duration::from_secs(300),
            codec: CodecConfig::default(),
            meter: None,
        }
    }
}

impl CacheBuilder {
    /// The prefix of every remote key, separating applications that share one Redis.
    pub fn namespace(mut self, namespace: impl Into<String>) -> CacheBuilder {
        self.namespace = namespace.into();
        self
    }

    /// The local tier (replaces the default 64 MiB one).
    pub fn local(mut self, local: LocalTier) -> CacheBuilder {
        self.local = Some(local);
        self
    }

    /// No local tier: every lookup that misses the request tier goes to the remote tier.
    pub fn without_local(mut self) -> CacheBuilder {
        self.local = None;
        self
    }

    /// The shared remote tier.
    pub fn remote(self, remote: impl RemoteTier) -> CacheBuilder {
        self.remote_arc(Arc::new(remote))
    }

    /// The shared remote tier, already behind an `Arc`.
    pub fn remote_arc(mut self, remote: Arc<dyn RemoteTier>) -> CacheBuilder {
        self.remote = Some(remote);
        self
    }

    /// The flag table (default: every cache on).
    pub fn flags(mut self, flags: Flags) -> CacheBuilder {
        self.flags = flags;
        self
    }

    /// TTL for calls whose [`Options`](crate::Options) set none.
    pub fn default_ttl(mut self, ttl: Duration) -> CacheBuilder {
        self.default_ttl = ttl;
        self
    }

    /// Envelope settings: compression threshold and level, decode cap.
    pub fn codec(mut self, codec: CodecConfig) -> CacheBuilder {
        self.codec = codec;
        self
    }

    /// The OpenTelemetry meter the cache records its instruments with (see
    /// [`metrics`](crate::metrics)). Without one, nothing is recorded.
    pub fn meter(mut self, meter: Meter) -> CacheBuilder {
        self.meter = Some(meter);
        self
    }

    /// Builds the cache and, with a remote tier, subscribes its local tier to the backplane.
    pub fn build(self) -> Cache {
        let drop = LocalDrop {
            local: self.local.clone(),
            fences: Arc::default(),
            flights: Arc::default(),
            generation: Arc::new(Generation::new(remote_prefix(&self.namespace))),
        };
        if let Some(remote) = &self.remote {
            // Even without a local tier: flights and request tiers must hear invalidations.
            remote.subscribe(drop.clone().listener(Arc::downgrade(remote)));
        }
        let metrics = Metrics::new(
            self.meter.as_ref(),
            &self.namespace,
            self.local.as_ref(),
            &self.flags,
        );
        Cache {
            inner: Arc::new(Inner {
                recorder: Recorder::new(metrics),
                id: NEXT_CACHE_ID.fetch_add(1, Relaxed),
                generation: Arc::clone(&drop.generation),
                namespace: self.namespace,
                local: self.local,
                remote: self.remote,
                flags: self.flags,
                default_ttl: self.default_ttl,
                codec: Codec::new(self.codec),
                flights: Arc::clone(&drop.flights),
                fences: Arc::clone(&drop.fences),
                drop,
                refreshing: Default::default(),
            }),
        }
    }
}

/// `escape(namespace):`, the prefix of every remote key and tag. Escaped with the key escaping,
/// so no namespace can end inside another's key text (`a` + `b:c` never equals `a:b` + `c`), and
/// the empty namespace is written `%`.
pub(crate) fn remote_prefix(namespace: &str) -> String {
    let mut prefix = String::with_capacity(namespace.len() + 1);
    crate::key::escape_into(&mut prefix, namespace);
    prefix.push(':');
    prefix
}
