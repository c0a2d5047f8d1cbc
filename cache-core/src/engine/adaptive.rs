//! Adaptive entries: the loader returns an [`Entry`] and so decides, per value, its TTL, its
//! stale window, extra tags, or that it is not cached (FusionCache's adaptive caching).
//!
//! The decisions are applied where a load's result is stored ([`run::load_then_store`]), so
//! every way a load happens honours them: a cold load, a stale or early refresh, a load
//! handed over after cancellation. They reach every tier through the options the entry is
//! stored with: the local tier's expiry and the envelope's fresh-until / stale-until come from
//! them, and the remote tier's TTL is the envelope's stale-until.

use std::future::Future;
use std::time::Duration;

use super::Cache;
use super::run::{self, Run};
use super::store::{FillPlan, Kept};
use crate::entry::Entry;
use crate::metrics::Event;
use crate::{CacheKey, Cacheable, Options};

/// A borrowing loader that returns [`Entry`]s, awaited on the caller's task.
pub(crate) struct Adaptive<F>(pub(crate) F);

impl<T, E, F, Fut> Run<T, E> for Adaptive<F>
where
    T: Cacheable,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Entry<T>, E>>,
{
    fn load_only(self) -> impl Future<Output = Result<Entry<T>, E>> {
        (self.0)()
    }

    async fn load_and_store(
        self,
        cache: &Cache,
        key: &CacheKey,
        opts: &Options,
        plan: FillPlan,
    ) -> (Result<T, E>, Kept) {
        run::load_then_store(cache, key, opts, (self.0)(), plan).await
    }
}

impl Cache {
    /// [`get_or_load`](Cache::get_or_load) for a loader that decides how its value is cached:
    /// it returns an [`Entry`] whose TTL, stale window and tags override `opts` for that one
    /// value, or which is not cached at all ([`Entry::skip`]: the caller and the callers
    /// waiting on the same load get the value, the next call loads again). A stale or early
    /// refresh honours the new decision too; a refresh that skips leaves the entry it
    /// refreshed in place.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::tier::memory::MemoryRemote;
    /// use cache_core::{Cache, CacheKey, Entry, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let redis = MemoryRemote::new();
    /// let cache = Cache::builder().namespace("app").remote(redis.clone()).build();
    /// let opts = Options::new().ttl(Duration::from_secs(600));
    /// // An upstream answer that says how long it may be kept.
    /// let fetch = || async { Ok::<_, String>(Entry::new(1.08_f64).ttl(Duration::from_secs(5))) };
    /// let key = CacheKey::new("fx", &"EURUSD");
    /// assert_eq!(cache.get_or_load_entry(&key, &opts, fetch).await, Ok(1.08));
    /// let ttl = redis.ttl_of(&cache.remote_key(&key)).unwrap();
    /// assert!(ttl <= Duration::from_secs(5), "the entry's TTL, not the options' 600 s");
    ///
    /// // A degraded answer is returned but never cached.
    /// let partial = || async { Ok::<_, String>(Entry::skip(0.0_f64)) };
    /// let key = CacheKey::new("fx", &"EURGBP");
    /// assert_eq!(cache.get_or_load_entry(&key, &opts, partial).await, Ok(0.0));
    /// assert_eq!(cache.get::<f64>(&key).await, None);
    /// # }
    /// ```
    pub async fn get_or_load_entry<T, E, F, Fut>(
        &self,
        key: &CacheKey,
        opts: &Options,
        load: F,
    ) -> Result<T, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Entry<T>, E>>,
    {
        self.fetch(key, opts, Adaptive(load), |e| e, None).await
    }

    /// [`get_or_load_entry`](Cache::get_or_load_entry) for a synchronous loader, over the
    /// request and local tiers (see [`get_or_load_sync`](Cache::get_or_load_sync)).
    ///
    /// ```
    /// use cache_core::{Cache, CacheKey, Entry, Options};
    /// let cache = Cache::builder().build();
    /// let key = CacheKey::new("parse", &"partial");
    /// let opts = Options::new();
    /// assert_eq!(cache.get_or_load_entry_sync(&key, &opts, || Ok::<_, ()>(Entry::skip(1_u8))), Ok(1));
    /// assert_eq!(cache.get_or_load_entry_sync(&key, &opts, || Ok::<_, ()>(Entry::new(2_u8))), Ok(2));
    /// ```
    pub fn get_or_load_entry_sync<T, E, F>(
        &self,
        key: &CacheKey,
        opts: &Options,
        load: F,
    ) -> Result<T, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Result<Entry<T>, E>,
    {
        self.fetch_sync(key, opts, load)
    }

    /// Counts the end of a load whose entry the loader chose not to cache.
    pub(crate) fn record_uncached_load(&self, key: &CacheKey, took: Duration) {
        let ended = Event::LoadEnded(key.cache_name(), took, false);
        self.inner.recorder.record(ended);
    }
}
