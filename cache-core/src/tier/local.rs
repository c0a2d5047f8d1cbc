//! The local tier: moka's synchronous cache, bounded in bytes, holding decoded values.
//!
//! moka's sync cache never blocks readers, so the same tier serves async and sync callers.
//! Each entry weighs the size of its encoded envelope (what it would cost in Redis) plus its
//! key, and expires at its own stale-until time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;

use super::SharedValue;
use crate::codec::EntryMeta;
use crate::{CacheKey, clock};

/// Fixed per-entry overhead added to the weight (map slot, Arcs, metadata).
const ENTRY_OVERHEAD: u32 = 96;

/// One decoded value with its lifetimes.
pub(crate) struct LocalEntry {
    pub(crate) value: SharedValue,
    pub(crate) meta: EntryMeta,
    /// Size of the entry's envelope; with the key and a fixed overhead, what it is charged.
    pub(crate) encoded_len: u32,
    /// The entry's tags; `None` when it was backfilled by a read that did not know them (a
    /// plain `get`), in which case every tag invalidation drops it to stay correct.
    pub(crate) tags: Option<Arc<[Arc<str>]>>,
}

impl LocalEntry {
    pub(crate) fn new(
        value: SharedValue,
        meta: EntryMeta,
        encoded_len: usize,
        tags: Option<Arc<[Arc<str>]>>,
    ) -> LocalEntry {
        LocalEntry {
            value,
            meta,
            encoded_len: u32::try_from(encoded_len).unwrap_or(u32::MAX),
            tags,
        }
    }
}

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
    /// A tier that holds at most `max_bytes` of entries (encoded size plus key and overhead).
    pub fn new(max_bytes: u64) -> LocalTier {
        let cache = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &CacheKey, entry: &Arc<LocalEntry>| {
                let key_len = u32::try_from(key.as_str().len()).unwrap_or(u32::MAX);
                entry
                    .encoded_len
                    .saturating_add(key_len)
                    .saturating_add(ENTRY_OVERHEAD)
            })
            .expire_after(UntilStale)
            .support_invalidation_closures()
            .build_with_hasher(foldhash::fast::RandomState::default());
        LocalTier { cache, max_bytes }
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

    pub(crate) fn get(&self, key: &CacheKey) -> Option<Arc<LocalEntry>> {
        self.cache.get(key)
    }

    pub(crate) fn insert(&self, key: CacheKey, entry: LocalEntry) {
        self.cache.insert(key, Arc::new(entry));
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
    }

    pub(crate) fn clear(&self) {
        self.cache.invalidate_all();
    }
}

/// Expires each entry at its envelope's stale-until time.
struct UntilStale;

impl UntilStale {
    fn remaining(entry: &LocalEntry) -> Option<Duration> {
        Some(clock::until(entry.meta.stale_until_ms, clock::now_ms()).unwrap_or(Duration::ZERO))
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
