//! How a loader is run: inline on the calling task (it may borrow), or spawned (it is
//! `'static + Send`, so it can outlive a caller that stopped waiting at `soft_timeout`).

use std::future::Future;
use std::time::Instant;

use tracing::Instrument;

use super::Cache;
use super::store::{FillPlan, Kept};
use crate::entry::{Decision, Entry};
use crate::metrics::Event;
use crate::{CacheKey, Cacheable, Options};

/// A loader plus the knowledge of how to run it.
pub(crate) trait Run<T, E>: Sized {
    /// Calls the loader and nothing else (flag off, shadow mode); a plain loader's value is an
    /// entry that decides nothing.
    fn load_only(self) -> impl Future<Output = Result<Entry<T>, E>>;

    /// Calls the loader and, on success, stores the value in every tier as `plan` allows.
    async fn load_and_store(
        self,
        cache: &Cache,
        key: &CacheKey,
        opts: &Options,
        plan: FillPlan,
    ) -> (Result<T, E>, Kept);
}

/// A borrowing loader, awaited on the caller's task. Dropping the caller cancels it.
pub(crate) struct Inline<F>(pub(crate) F);

/// A `'static` loader, run on its own task so it finishes (and updates the cache) even when the
/// caller stops waiting.
pub(crate) struct Spawned<F>(pub(crate) F);

/// Counts a load, runs it inside a debug-level `cache.load` span, measures it, and stores its
/// value per `plan` and the loader's [`Entry`] decisions: what every kind of loader does, on
/// the caller's task or its own. A plain loader's value is an entry that decides nothing.
pub(crate) async fn load_then_store<T: Cacheable, E>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    load: impl Future<Output = Result<Entry<T>, E>>,
    plan: FillPlan,
) -> (Result<T, E>, Kept) {
    cache.inner.recorder.record(Event::LoadStarted);
    let started = Instant::now();
    let loaded = load
        .instrument(tracing::debug_span!(
            "cache.load",
            cache.name = key.cache_name()
        ))
        .await;
    let (result, decision) = Decision::split(loaded);
    let took = started.elapsed();
    let kept = match decision.options(opts) {
        Some(opts) => cache.store_load(key, &opts, &result, took, plan).await,
        None => {
            cache.record_uncached_load(key, took);
            Kept::Nothing
        }
    };
    (result, kept)
}

impl<T, E, F, Fut> Run<T, E> for Inline<F>
where
    T: Cacheable,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    fn load_only(self) -> impl Future<Output = Result<Entry<T>, E>> {
        let load = (self.0)();
        async { load.await.map(Entry::new) }
    }

    async fn load_and_store(
        self,
        cache: &Cache,
        key: &CacheKey,
        opts: &Options,
        plan: FillPlan,
    ) -> (Result<T, E>, Kept) {
        let load = (self.0)();
        load_then_store(cache, key, opts, async { load.await.map(Entry::new) }, plan).await
    }
}

impl<T, E, F, Fut> Run<T, E> for Spawned<F>
where
    T: Cacheable,
    E: Send + Sync + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    fn load_only(self) -> impl Future<Output = Result<Entry<T>, E>> {
        let load = (self.0)();
        async { load.await.map(Entry::new) }
    }

    async fn load_and_store(
        self,
        cache: &Cache,
        key: &CacheKey,
        opts: &Options,
        plan: FillPlan,
    ) -> (Result<T, E>, Kept) {
        let (cache, key, opts) = (cache.clone(), key.clone(), opts.clone());
        let task = tokio::spawn(async move {
            let load = async { (self.0)().await.map(Entry::new) };
            load_then_store(&cache, &key, &opts, load, plan).await
        });
        match task.await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            // We never abort this task; only a runtime shutting down cancels it, and then no
            // caller is left to answer.
            Err(_) => panic!("cache loader task was cancelled by runtime shutdown"),
        }
    }
}
