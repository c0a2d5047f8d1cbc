//! The process-wide cache used by `#[cached]` functions that name no `cache = …`.

use std::sync::Arc;

use arc_swap::ArcSwapOption;

use crate::Cache;
use crate::engine::Inner;

static GLOBAL: ArcSwapOption<Inner> = ArcSwapOption::const_empty();

/// Makes `cache` the global cache (replacing any earlier one). Call it once at startup.
///
/// ```
/// let cache = cache_core::Cache::builder().namespace("demo").build();
/// cache_core::install(cache);
/// assert_eq!(cache_core::global().namespace(), "demo");
/// ```
pub fn install(cache: Cache) {
    GLOBAL.store(Some(cache.inner));
}

/// The installed global cache, if [`install`] has been called.
pub fn try_global() -> Option<Cache> {
    GLOBAL.load_full().map(|inner| Cache { inner })
}

/// The global cache. Before [`install`], a default cache (64 MiB local tier, no remote tier) is
/// installed on first use, so cached functions work in tests and scripts without setup.
pub fn global() -> Cache {
    if let Some(cache) = try_global() {
        return cache;
    }
    let fallback = Cache::builder().build();
    // Another thread may have installed one meanwhile; keep whichever got there first.
    let previous = GLOBAL.compare_and_swap(&None::<Arc<Inner>>, Some(Arc::clone(&fallback.inner)));
    match &*previous {
        Some(inner) => Cache {
            inner: Arc::clone(inner),
        },
        None => {
            tracing::info!("no global cache installed; using a default local-only cache");
            fallback
        }
    }
}
