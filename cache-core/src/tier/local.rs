//! The local tier: moka's synchronous cache, bounded in bytes, holding decoded values.
//!
//! moka's sync cache never blocks readers, so the same tier serves async and sync callers.
//! Each entry expires at its own stale-until time and weighs what its value occupies decoded,
//! estimated by the length of its envelope *before* compression (header plus MessagePack),
//! plus its key and a fixed overhead. The compressed length would understate a value that
//! compresses 100:1 a hundredfold, letting a 1 MiB budget hold 100 MiB. MessagePack is close
//! to the decoded size for strings and byte buffers; small numbers and short strings take
//! more room decoded than encoded, so the budget is an estimate, not an exact cap. moka also
//! evicts in batches: between two maintenance runs (normally 64 writes apart) it can hold
//! that many entries over the budget.
//!
//! The per-thread fronts (`front.rs`) count against the same budget: all threads' fronts
//! together keep at most an eighth of it alive beyond what moka holds, so the values of a
//! tier occupy at most `max_bytes * 9 / 8` (by the estimate above) once moka has evicted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;

use super::entry::LocalEntry;
use super::front::{self, FrontShared};
use crate::{CacheKey, clock};

/// The in-process tier of a [`Cache`](crate::Cache), bounded in bytes.
///
/// ```
/// let tier = cache_core::LocalTier::new(32 * 1024 * 1024);
/// assert_eq!(tier.max_bytes(), 32 * 1024 * 1024);
/// assert_eq!(tier.entry_count(), 0);
/// ```
#[derive(Clone)]
pub struct LocalTier {
    /// Entries behind one `Arc` so a hit costs a single reference-count bump; a fast
    /// non-cryptographic hasher, since keys come from the application, not from attackers
    /// choosing collisions (moka's buckets are still per-process randomly seeded).
    cache: moka::sync::Cache<CacheKey, Arc<LocalEntry>, foldhash::fast::RandomState>,
    max_bytes: u64,
    /// What every thread's front for this tier checks (see [`front`]).
    front: Arc<FrontShared>,
}

impl std::fmt::Debug for LocalTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTier")
            .field("max_bytes", &self.max_bytes)
            .field("entries", &self.cache.entry_count())
            .field("bytes", &self.cache.weighted_size())
            .finish()
    }
}

impl LocalTier {
    /// A tier that holds at most `max_bytes` of entries (uncompressed envelope length plus key
    /// and overhead; per-thread fronts may hold an eighth more, see the module docs).
    pub fn new(max_bytes: u64) -> LocalTier {
        let cache = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &CacheKey, entry: &Arc<LocalEntry>| entry.charge(key.as_str().len()))
            .expire_after(UntilStale)
            // Called by the thread that removes or replaces an entry, before that call
            // returns: from then on no front serves it.
            .eviction_listener(|_, entry: Arc<LocalEntry>, _| entry.retire())
            .support_invalidation_closures()
            .build_with_hasher(foldhash::fast::RandomState::default());
        LocalTier {
            cache,
            max_bytes,
            front: Arc::new(FrontShared::new(max_bytes)),
        }
    }

    /// The byte budget.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Entries currently held (approximate until pending maintenance has run).
    pub fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Bytes currently charged (approximate until pending maintenance has run).
    pub fn weighted_bytes(&self) -> u64 {
        self.cache.weighted_size()
    }

    /// Runs moka's pending maintenance (evictions, expirations) now; useful in tests.
    pub fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks();
    }

    /// Calls `f` with the entry under `key` (its value inside it), if there is one: from this
    /// thread's front when it holds it, else from moka (offering it to the front).
    pub(crate) fn with_entry<R>(
        &self,
        key: &str,
        f: impl FnOnce(&Arc<LocalEntry>) -> R,
    ) -> Option<R> {
        let hash = front::hash(key);
        let mut f = Some(f);
        if let front::Lookup::Hit { result, touch } =
            front::lookup(&self.front, key, hash, |entry| f.take().map(|f| f(entry)))
        {
            if touch {
                // Keeps moka's eviction policy aware that this key is hot.
                let _ = self.cache.get(key);
            }
            return result;
        }
        let epoch = self.front.epoch();
        let entry = self.cache.get(key)?;
        front::offer(&self.front, key, hash, epoch, &entry);
        f.map(|f| f(&entry))
    }

    /// The entry under `key` straight from moka, leaving this thread's front alone: for
    /// inspecting, not serving.
    pub(crate) fn peek(&self, key: &str) -> Option<Arc<LocalEntry>> {
        self.cache.get(key)
    }

    pub(crate) fn insert(&self, key: CacheKey, entry: Arc<LocalEntry>) {
        self.cache.insert(key, entry);
    }

    pub(crate) fn invalidate(&self, key: &str) {
        self.cache.invalidate(key);
    }

    pub(crate) fn invalidate_tag(&self, tag: &str) {
        let tag: Arc<str> = Arc::from(tag);
        // Only fails when invalidation closures are not enabled, and they always are here.
        let _ = self.cache.invalidate_entries_if(move |_, entry| {
            entry
                .tags
                .as_ref()
                .is_none_or(|tags| tags.iter().any(|t| **t == *tag))
        });
        // After moka hides the entries: a front must not keep serving them until moka's
        // maintenance gets round to removing (and retiring) them.
        self.front.bump_epoch();
    }

    pub(crate) fn clear(&self) {
        self.cache.invalidate_all();
        self.front.bump_epoch();
    }
}

/// Expires each entry at its envelope's stale-until time.
struct UntilStale;

impl UntilStale {
    fn remaining(entry: &LocalEntry) -> Option<Duration> {
        let stale_until = entry.meta().stale_until_ms;
        Some(clock::until(stale_until, clock::now_ms()).unwrap_or(Duration::ZERO))
    }
}

impl Expiry<CacheKey, Arc<LocalEntry>> for UntilStale {
    fn expire_after_create(
        &self,
        _: &CacheKey,
        entry: &Arc<LocalEntry>,
        _: Instant,
    ) -> Option<Duration> {
        UntilStale::remaining(entry)
    }

    fn expire_after_update(
        &self,
        _: &CacheKey,
        entry: &Arc<LocalEntry>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        UntilStale::remaining(entry)
    }
}
