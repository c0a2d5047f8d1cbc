//! How a loader is run: inline on the calling task (it may borrow), or spawned (it is
//! `'static + Send`, so it can outlive a caller that stopped waiting at `soft_timeout`).

use std::future::Future;
use std::time::Instant;

use tracing::Instrument;

use super::Cache;
use super::store::{FillPlan, Kept};
use crate::metrics::Event;
use crate::{CacheKey, Cacheable, Options};

/// A loader plus the knowledge of how to run it.
pub(crate) trait Run<T, E>: Sized {
    /// Calls the loader and nothing else (flag off, shadow mode).
    fn load_only(self) -> impl Future<Output = Result<T, E>>;

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
/// value per `plan`: what both kinds of loader do, on the caller's task or their own.
async fn load_then_store<T: Cacheable, E>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    load: impl Future<Output = Result<T, E>>,
    plan: FillPlan,
) -> (Result<T, E>, Kept) {
    cache.inner.recorder.record(Event::LoadStarted);
    let started = Instant::now();
    let result = load
        .instrument(tracing::debug_span!(
            "cache.load",
            cache.name = key.cache_name()
        ))
        .await;
    let kept = cache
        .store_load(key, opts, &result, started.elapsed(), plan)
        .await;
    (result, kept)
}

impl<T, E, F, Fut> Run<T, E> for Inline<F>
where
    T: Cacheable,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    fn load_only(self) -> impl Future<Output = Result<T, E>> {
        (self.0)()
    }

    async fn load_and_store(
        self,
        cache: &Cache,
        key: &CacheKey,
        opts: &Options,
        plan: FillPlan,
    ) -> (Result<T, E>, Kept) {
        load_then_store(cache, key, opts, (self.0)(), plan).await
    }
}

impl<T, E, F, Fut> Run<T, E> for Spawned<F>
where
    T: Cacheable,
    E: Send + Sync + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    fn load_only(self) -> impl Future<Output = Result<T, E>> {
        (self.0)()
    }

    async fn load_and_store(
        self,
        cache: &Cache,
        key: &CacheKey,
        opts: &Options,
        plan: FillPlan,
    ) -> (Result<T, E>, Kept) {
        let (cache, key, opts) = (cache.clone(), key.clone(), opts.clone());
        let task =
            tokio::spawn(
                async move { load_then_store(&cache, &key, &opts, (self.0)(), plan).await },
            );
        match task.await {
            Ok(result) => result,
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            // We never abort this task; only a runtime shutting down cancels it, and then no
            // caller is left to answer.
            Err(_) => panic!("cache loader task was cancelled by runtime shutdown"),
        }
    }
}
