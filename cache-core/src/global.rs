//! The process-wide cache used by `#[cached]` functions that name no `cache = …`.
//!
//! The first installed cache lives in a `OnceLock`, so reaching it from a cached function is an
//! atomic flag read and a pointer: no reference counting on the hot path. Installing again
//! (tests do) moves every later call to a swappable slot, which costs a reference count.

use std::ops::Deref;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwapOption;

use crate::Cache;

static FIRST: OnceLock<Cache> = OnceLock::new();
static REPLACED: AtomicBool = AtomicBool::new(false);
static CURRENT: ArcSwapOption<Cache> = ArcSwapOption::const_empty();

/// Makes `cache` the global cache (replacing any earlier one). Call it once at startup.
///
/// ```
/// let cache = cache_core::Cache::builder().namespace("demo").build();
/// cache_core::install(cache);
/// assert_eq!(cache_core::global().namespace(), "demo");
/// ```
pub fn install(cache: Cache) {
    let mut cache = Some(cache);
    FIRST.get_or_init(|| cache.take().unwrap_or_else(|| Cache::builder().build()));
    if let Some(replacement) = cache {
        CURRENT.store(Some(std::sync::Arc::new(replacement)));
        REPLACED.store(true, Ordering::Release);
    }
}

/// The installed global cache, if [`install`] has been called (or [`global`] installed the
/// default).
pub fn try_global() -> Option<Cache> {
    if REPLACED.load(Ordering::Acquire) {
        return CURRENT.load().as_deref().cloned();
    }
    FIRST.get().cloned()
}

/// The global cache. Before [`install`], a default cache (64 MiB local tier, no remote tier) is
/// installed on first use, so cached functions work in tests and scripts without setup.
pub fn global() -> Cache {
    global_ref().clone()
}

/// The global cache, borrowed for the duration of one call (what generated code uses).
#[doc(hidden)]
pub fn global_ref() -> GlobalRef {
    if REPLACED.load(Ordering::Acquire)
        && let Some(cache) = CURRENT.load_full()
    {
        return GlobalRef::Replaced(cache);
    }
    GlobalRef::First(FIRST.get_or_init(|| {
        tracing::info!("no global cache installed; using a default local-only cache");
        Cache::builder().build()
    }))
}

/// A borrowed handle on the global cache.
#[doc(hidden)]
pub enum GlobalRef {
    /// The first installed cache, for the life of the process.
    First(&'static Cache),
    /// A cache installed later.
    Replaced(std::sync::Arc<Cache>),
}

impl Deref for GlobalRef {
    type Target = Cache;

    fn deref(&self) -> &Cache {
        match self {
            GlobalRef::First(cache) => cache,
            GlobalRef::Replaced(cache) => cache,
        }
    }
}
