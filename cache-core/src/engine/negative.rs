//! Loaders that may find nothing: `None` is not cached by default, and with
//! [`Options::none_ttl`] it is cached — as an `Option<T>` entry like any other, through the
//! same fenced store path — for that shorter time. The cached `None` is an adaptive
//! [`Entry`] with its own TTL, so the hit path pays nothing for negative caching.

use std::future::Future;
use std::time::Duration;

use super::Cache;
use crate::entry::with_none_ttl;
use crate::{CacheKey, Cacheable, Entry, Options};

/// Why a load that was not allowed to cache `None` produced no value to cache.
#[derive(Clone)]
enum NotCached<E> {
    /// The loader found nothing.
    Missing,
    /// The loader failed.
    Failed(E),
}

impl<E> NotCached<E> {
    /// The loader's outcome with `None` turned into an error, so that it is not cached.
    fn lift<T>(loaded: Result<Option<T>, E>) -> Result<T, NotCached<E>> {
        match loaded {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(NotCached::Missing),
            Err(error) => Err(NotCached::Failed(error)),
        }
    }

    /// Back to the caller's shape.
    fn lower<T>(outcome: Result<T, NotCached<E>>) -> Result<Option<T>, E> {
        match outcome {
            Ok(value) => Ok(Some(value)),
            Err(NotCached::Missing) => Ok(None),
            Err(NotCached::Failed(error)) => Err(error),
        }
    }
}

/// A found value is cached as the options say; a "not found" lives exactly `none_ttl`.
fn negative_entry<T>(found: Option<T>, none_ttl: Duration) -> Entry<Option<T>> {
    with_none_ttl(Entry::new(found), Some(none_ttl))
}

impl Cache {
    /// [`get_or_load`](Cache::get_or_load) for a loader that may find nothing (`Ok(None)`).
    ///
    /// By default only `Some` is cached: a `None` goes back to the caller (and to callers
    /// waiting on the same load) and the next call loads again; while a stale value exists, a
    /// `None` from a refresh serves it, as a loader error does. With [`Options::none_ttl`] a
    /// `None` is cached too, for exactly that long, in every tier the options allow, and is
    /// invalidated like any value. The two modes store different types (`T`, `Option<T>`), so
    /// one key must not be read with both.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::time::Duration;
    /// use cache_core::{Cache, CacheKey, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let cache = Cache::builder().build();
    /// let opts = Options::new().none_ttl(Duration::from_secs(30));
    /// let calls = AtomicUsize::new(0);
    /// let find = || async { calls.fetch_add(1, Ordering::SeqCst); Ok::<Option<u32>, String>(None) };
    /// let key = CacheKey::new("user", &404);
    /// assert_eq!(cache.get_or_load_option(&key, &opts, find).await, Ok(None));
    /// assert_eq!(cache.get_or_load_option(&key, &opts, find).await, Ok(None));
    /// assert_eq!(calls.load(Ordering::SeqCst), 1, "the second `None` came from the cache");
    /// # }
    /// ```
    pub async fn get_or_load_option<T, E, F, Fut>(
        &self,
        key: &CacheKey,
        opts: &Options,
        load: F,
    ) -> Result<Option<T>, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>, E>>,
    {
        if let Some(none_ttl) = opts.none_ttl_value() {
            let load = || async move { load().await.map(|found| negative_entry(found, none_ttl)) };
            return self.get_or_load_entry(key, opts, load).await;
        }
        let load = || async move { NotCached::lift(load().await) };
        NotCached::lower(self.get_or_load(key, opts, load).await)
    }

    /// [`get_or_load_option`](Cache::get_or_load_option) for a synchronous loader, over the
    /// request and local tiers (see [`get_or_load_sync`](Cache::get_or_load_sync)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::{Cache, CacheKey, Options};
    /// let cache = Cache::builder().build();
    /// let opts = Options::new().none_ttl(Duration::from_secs(30));
    /// let key = CacheKey::new("user", &404);
    /// assert_eq!(cache.get_or_load_option_sync(&key, &opts, || Ok::<Option<u8>, ()>(None)), Ok(None));
    /// let not_called = || Ok::<Option<u8>, ()>(Some(1));
    /// assert_eq!(cache.get_or_load_option_sync(&key, &opts, not_called), Ok(None));
    /// ```
    pub fn get_or_load_option_sync<T, E, F>(
        &self,
        key: &CacheKey,
        opts: &Options,
        load: F,
    ) -> Result<Option<T>, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Result<Option<T>, E>,
    {
        if let Some(none_ttl) = opts.none_ttl_value() {
            let load = || load().map(|found| negative_entry(found, none_ttl));
            return self.get_or_load_entry_sync(key, opts, load);
        }
        NotCached::lower(self.get_or_load_sync(key, opts, || NotCached::lift(load())))
    }
}
