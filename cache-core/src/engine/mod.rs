//! The engine: the [`Cache`] handle and the read-through / write-back logic across tiers.

mod adaptive;
mod admit;
mod batch;
mod builder;
mod clear;
mod fence;
mod fetch;
mod force;
mod freshness;
mod generation;
mod inspect;
mod invalidate;
mod lead_read;
mod lease;
mod negative;
mod read;
mod read_remote;
mod refresh;
mod refresh_set;
mod remote;
mod remote_call;
mod report;
mod run;
mod single_flight;
mod store;
mod sync;

pub use builder::CacheBuilder;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::Codec;
use crate::flags::Flags;
use crate::metrics::Recorder;
use crate::stats::StatsSnapshot;
use crate::tier::local::LocalTier;
use crate::tier::remote::RemoteTier;
use crate::{CacheKey, Cacheable, Options};
use refresh_set::RefreshSet;
use run::{Inline, Spawned};
use single_flight::SingleFlight;

/// Why [`Cache::try_get_or_load`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError<E> {
    /// The loader returned this error (it was not cached).
    #[error("loader failed: {0}")]
    Loader(E),
    /// `hard_timeout` passed with no stale value to serve.
    #[error("no value within the hard timeout of {0:?}")]
    Timeout(Duration),
}

/// A multi-tier cache. Cheap to clone (an `Arc` inside); build one at startup.
///
/// See the [crate documentation](crate) for the lookup order and an example.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    namespace: String,
    /// The namespace's generation: the prefix of every remote key (see [`generation`]).
    generation: Arc<generation::Generation>,
    local: Option<LocalTier>,
    remote: Option<Arc<dyn RemoteTier>>,
    flags: Flags,
    default_ttl: Duration,
    codec: Codec,
    flights: Arc<SingleFlight>,
    refreshing: RefreshSet,
    /// Tickets and tombstones: what keeps stale values out (see [`fence`]).
    fences: Arc<fence::Fences>,
    /// Drops invalidated values on this node (shared with the backplane listener).
    drop: invalidate::LocalDrop,
    /// Counts what the cache does, in its stats and its instruments.
    recorder: Recorder,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("namespace", &self.inner.namespace)
            .field("local", &self.inner.local)
            .field("remote", &self.inner.remote.is_some())
            .finish()
    }
}

impl Cache {
    /// Starts configuring a cache.
    pub fn builder() -> CacheBuilder {
        CacheBuilder::default()
    }

    /// Returns the cached value for `key`, or calls `load` once — however many callers ask at
    /// the same time — and caches its `Ok` value in every tier the options allow.
    ///
    /// Loader errors are returned to the caller (and to callers waiting on the same load) and
    /// never cached; if a stale value exists it is served instead (fail-safe). The loader may
    /// borrow from the caller. With [`Options::hard_timeout`] and no stale value this method
    /// keeps waiting, since it can only return your `E`; use
    /// [`try_get_or_load`](Cache::try_get_or_load) to get [`LoadError::Timeout`].
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use cache_core::{Cache, CacheKey, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let cache = Cache::builder().build();
    /// let calls = AtomicUsize::new(0);
    /// let load = || async { calls.fetch_add(1, Ordering::SeqCst); Ok::<_, String>(7_u32) };
    /// let key = CacheKey::new("answer", &());
    /// assert_eq!(cache.get_or_load(&key, &Options::new(), load).await, Ok(7));
    /// assert_eq!(cache.get_or_load(&key, &Options::new(), load).await, Ok(7));
    /// assert_eq!(calls.load(Ordering::SeqCst), 1);
    /// # }
    /// ```
    pub async fn get_or_load<T, E, F, Fut>(
        &self,
        key: &CacheKey,
        opts: &Options,
        load: F,
    ) -> Result<T, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.fetch(key, opts, Inline(load), |e| e, None).await
    }

    /// Like [`get_or_load`](Cache::get_or_load), but `hard_timeout` without a stale value
    /// returns [`LoadError::Timeout`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::{Cache, CacheKey, LoadError, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let cache = Cache::builder().build();
    /// let opts = Options::new().hard_timeout(Duration::from_millis(10));
    /// let slow = || async { tokio::time::sleep(Duration::from_secs(5)).await; Ok::<u8, ()>(1) };
    /// let got = cache.try_get_or_load(&CacheKey::new("slow", &1), &opts, slow).await;
    /// assert_eq!(got, Err(LoadError::Timeout(Duration::from_millis(10))));
    /// # }
    /// ```
    pub async fn try_get_or_load<T, E, F, Fut>(
        &self,
        key: &CacheKey,
        opts: &Options,
        load: F,
    ) -> Result<T, LoadError<E>>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.fetch(
            key,
            opts,
            Inline(load),
            LoadError::Loader,
            Some(LoadError::Timeout),
        )
        .await
    }

    /// Like [`get_or_load`](Cache::get_or_load) for a `'static + Send` loader, which runs on its
    /// own task: after `soft_timeout` the caller gets the stale value while the load finishes in
    /// the background and updates the cache, and a cancelled caller does not cancel the load.
    pub async fn get_or_load_static<T, E, F, Fut>(
        &self,
        key: &CacheKey,
        opts: &Options,
        load: F,
    ) -> Result<T, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.fetch(key, opts, Spawned(load), |e| e, None).await
    }

    /// The fresh value for `key` in any tier, without loading. Backfills the tiers above.
    pub async fn get<T: Cacheable>(&self, key: &CacheKey) -> Option<T> {
        self.read_fresh(key, &Options::plain_read()).await
    }

    /// Fresh values for many keys: upper tiers first, then one remote round trip for the rest.
    ///
    /// ```
    /// use cache_core::{Cache, CacheKey, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let cache = Cache::builder().build();
    /// let (a, b) = (CacheKey::new("n", &1), CacheKey::new("n", &2));
    /// cache.set(&a, &10_u8, &Options::new()).await;
    /// assert_eq!(cache.get_many::<u8>(&[a, b]).await, vec![Some(10), None]);
    /// # }
    /// ```
    pub async fn get_many<T: Cacheable>(&self, keys: &[CacheKey]) -> Vec<Option<T>> {
        self.read_many(keys).await
    }

    /// Writes `value` to every tier and tells other nodes to drop their local copy.
    ///
    /// Coherence: once `set` returns, reads on this node see `value` (or something newer), and
    /// no load that began before the call stores its result afterwards, here or in the remote
    /// tier. `set` is last-writer-wins: two concurrent `set`s of one key (or a `set` racing an
    /// [`invalidate`](Cache::invalidate) of it) may leave either value; writers of one key
    /// must order their `set`s themselves, or use `invalidate`, which is always safe.
    pub async fn set<T: Cacheable>(&self, key: &CacheKey, value: &T, opts: &Options) {
        self.write_everywhere(key, value, opts).await;
    }

    /// Removes `key` from every tier here and from every other node's local tier.
    ///
    /// # Coherence
    ///
    /// - **This node:** once `invalidate` has returned, no read that starts afterwards returns
    ///   a value whose load began before the call — not from the request tier of any scope, not
    ///   from the local tier, not by joining a load already in flight.
    /// - **Other nodes:** the same, once the backplane has delivered the event to them. While a
    ///   node's subscription is down it trusts its local entries only for a bounded time, and
    ///   it drops its whole local tier when it subscribes again.
    /// - **No stale sets:** a load that began before the call never writes its result after
    ///   it, in any tier: remote fills are conditional on the lease or entry token the load
    ///   started from (the remote delete voids it), local stores on a ticket older than the
    ///   local tombstone.
    /// - **Outages:** if the remote tier is unreachable the delete (and its announcement) is
    ///   queued and replayed, idempotently, when it answers again; this node drops its copy
    ///   at once.
    ///
    /// ```
    /// use cache_core::{Cache, CacheKey, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let cache = Cache::builder().build();
    /// let key = CacheKey::new("user", &42);
    /// cache.set(&key, &"Ada".to_string(), &Options::new()).await;
    /// cache.invalidate(&key).await;
    /// assert_eq!(cache.get::<String>(&key).await, None);
    /// # }
    /// ```
    pub async fn invalidate(&self, key: &CacheKey) {
        self.remove_everywhere(key).await;
    }

    /// Removes every entry written with `tag`, here and on every other node, with the same
    /// guarantees as [`invalidate`](Cache::invalidate).
    pub async fn invalidate_tag(&self, tag: &str) {
        self.remove_tag_everywhere(tag).await;
    }

    /// The flag table; change modes at runtime through it.
    pub fn flags(&self) -> &Flags {
        &self.inner.flags
    }

    /// Counters of what this cache has done so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.recorder.snapshot()
    }

    /// The namespace that prefixes remote keys.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The local tier, if configured.
    pub fn local(&self) -> Option<&LocalTier> {
        self.inner.local.as_ref()
    }

    /// Whether a remote tier is configured.
    pub fn has_remote(&self) -> bool {
        self.inner.remote.is_some()
    }

    /// The key under which `key` is stored in the remote tier: `<namespace>:<key>`, or
    /// `<namespace>:@<n>:<key>` once the namespace was [cleared](Cache::clear) into
    /// generation `n`.
    pub fn remote_key(&self, key: &CacheKey) -> String {
        self.inner.generation.now().key(key)
    }

    /// The name under which `tag` is known to the remote tier (`<namespace>:<tag>`), so
    /// applications sharing one Redis never invalidate each other's tags.
    pub fn remote_tag(&self, tag: &str) -> String {
        format!("{}{tag}", self.inner.generation.base())
    }

    /// Loads in the air right now in this process.
    pub fn loads_in_flight(&self) -> usize {
        self.inner.flights.in_flight()
    }
}
