//! Per cache name: its attribute sets and its striped per-call counts, found without a lock.
//!
//! The engine names the cache on every call (`&str`). A copy-on-write map from name to
//! [`NameMetrics`] is read lock-free, but hashing the name on every hit is still most of the
//! cost of counting one; so each thread also remembers the last few (registry, name) pairs it
//! counted for and compares strings instead. The remembered entries are borrowed, never
//! cloned, on the hot path: cloning an `Arc` would write its shared reference count.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use opentelemetry::metrics::AsyncInstrument;

use super::attrs::{Lookup, NameAttrs, REQUEST_SLOTS, request_slot};
use super::latency::LoadLatency;
use super::striped::Striped;
use crate::stats::TierName;

/// Slot of `cache.coalesced`, after the `cache.requests` slots.
const COALESCED: usize = REQUEST_SLOTS;
/// Counters per cache name.
const SLOTS: usize = REQUEST_SLOTS + 1;

/// What one cache name records: attribute sets for the OpenTelemetry instruments and the
/// counts that `cache.requests` and `cache.coalesced` report at collection time.
pub(crate) struct NameMetrics {
    pub(crate) attrs: NameAttrs,
    counts: Striped<SLOTS>,
    /// Load durations in the `cache.load.duration` buckets, for percentiles on demand.
    pub(crate) latency: LoadLatency,
}

impl NameMetrics {
    fn new(name: &str) -> NameMetrics {
        NameMetrics {
            attrs: NameAttrs::new(name),
            counts: Striped::new(),
            latency: LoadLatency::new(),
        }
    }

    /// The `cache.requests` count of [`request_slot`]'s `slot`.
    pub(crate) fn requests(&self, slot: usize) -> u64 {
        self.counts.sum(slot)
    }

    /// The `cache.coalesced` count.
    pub(crate) fn coalesced(&self) -> u64 {
        self.counts.sum(COALESCED)
    }

    #[inline]
    pub(crate) fn count_request(&self, tier: Option<TierName>, result: Lookup) {
        self.counts.add(request_slot(tier, result), 1);
    }

    #[inline]
    pub(crate) fn count_coalesced(&self) {
        self.counts.add(COALESCED, 1);
    }

    /// Reports every (tier, result) pair counted so far. Pairs never counted are left out, as
    /// a synchronous counter that was never added to would leave them out.
    pub(crate) fn observe_requests(&self, observer: &dyn AsyncInstrument<u64>) {
        for slot in 0..REQUEST_SLOTS {
            let n = self.counts.sum(slot);
            if n > 0 {
                observer.observe(n, self.attrs.request(slot));
            }
        }
    }

    /// Reports the coalesced callers, if there were any.
    pub(crate) fn observe_coalesced(&self, observer: &dyn AsyncInstrument<u64>) {
        let n = self.counts.sum(COALESCED);
        if n > 0 {
            observer.observe(n, self.attrs.name());
        }
    }
}

/// Gives every registry its own id, so a thread's memo never confuses two caches' metrics
/// (an address could be reused by a registry built after another was dropped).
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Copy-on-write map from cache name to its [`NameMetrics`]; one per `Metrics` (per cache).
pub(crate) struct Names {
    id: u64,
    by_name: ArcSwap<HashMap<Arc<str>, Arc<NameMetrics>>>,
}

impl Names {
    pub(crate) fn new() -> Names {
        Names {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            by_name: ArcSwap::default(),
        }
    }

    /// Calls `f` with `name`'s metrics, creating them on first use.
    #[inline]
    pub(crate) fn with(&self, name: &str, f: impl FnOnce(&NameMetrics)) {
        // `try_with` consumes its closure even when it cannot run it, so `f` travels in an
        // `Option` and whichever path runs takes it.
        let mut f = Some(f);
        let _ = MEMO.try_with(|memo| {
            // Already borrowed only if `f` re-entered this code; then the memo is skipped.
            if let Ok(mut memo) = memo.try_borrow_mut()
                && let Some(f) = f.take()
            {
                f(memo.lookup(self, name));
            }
        });
        if let Some(f) = f {
            f(&self.get_or_insert(name).1);
        }
    }

    /// Calls `f` for every name recorded so far (collection time).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&NameMetrics)) {
        for metrics in self.by_name.load().values() {
            f(metrics);
        }
    }

    /// Calls `f` with every name recorded so far and its metrics.
    pub(crate) fn for_each_named(&self, mut f: impl FnMut(&str, &NameMetrics)) {
        for (name, metrics) in self.by_name.load().iter() {
            f(name, metrics);
        }
    }

    /// The map's key and metrics for `name`, inserted if missing (once per name).
    fn get_or_insert(&self, name: &str) -> (Arc<str>, Arc<NameMetrics>) {
        let found = |map: &HashMap<Arc<str>, Arc<NameMetrics>>| {
            map.get_key_value(name)
                .map(|(key, metrics)| (Arc::clone(key), Arc::clone(metrics)))
        };
        if let Some(found) = found(&self.by_name.load()) {
            return found;
        }
        let fresh = (Arc::<str>::from(name), Arc::new(NameMetrics::new(name)));
        self.by_name.rcu(|old| {
            let mut next = HashMap::clone(old);
            // Another thread may have inserted `name` meanwhile: keep its entry.
            next.entry(Arc::clone(&fresh.0))
                .or_insert_with(|| Arc::clone(&fresh.1));
            next
        });
        // Names are never removed, so the map has `name` now; `fresh` is only a fallback.
        found(&self.by_name.load()).unwrap_or(fresh)
    }
}

/// Entries a thread remembers: enough for the few caches one thread serves.
const MEMO_SIZE: usize = 4;

/// One remembered (registry, name) pair.
struct Remembered {
    id: u64,
    name: Arc<str>,
    metrics: Arc<NameMetrics>,
}

/// A thread's last few lookups; when full, replaced round-robin.
struct Memo {
    entries: Vec<Remembered>,
    next: usize,
}

thread_local! {
    static MEMO: RefCell<Memo> = const {
        RefCell::new(Memo { entries: Vec::new(), next: 0 })
    };
}

impl Memo {
    /// `name`'s metrics in `names`, from the memo or (once) from the map.
    #[inline]
    fn lookup(&mut self, names: &Names, name: &str) -> &NameMetrics {
        let found = self
            .entries
            .iter()
            .position(|e| e.id == names.id && *e.name == *name);
        let slot = match found {
            Some(slot) => slot,
            None => {
                let (name, metrics) = names.get_or_insert(name);
                let entry = Remembered {
                    id: names.id,
                    name,
                    metrics,
                };
                if self.entries.len() < MEMO_SIZE {
                    self.entries.push(entry);
                    self.entries.len() - 1
                } else {
                    let slot = self.next;
                    self.next = (slot + 1) % MEMO_SIZE;
                    self.entries[slot] = entry;
                    slot
                }
            }
        };
        &self.entries[slot].metrics
    }
}
