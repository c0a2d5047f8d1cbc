//! Looking into a [`MemoryRemote`]: its live keys and their TTLs, and call counters, for tests
//! that assert what a tier holds and how often it was asked.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::{Held, MemoryRemote};

impl MemoryRemote {
    /// Time left before `key` expires, if it exists.
    pub fn ttl_of(&self, key: &str) -> Option<Duration> {
        let store = self.shared.store.lock();
        store
            .entries
            .get(key)
            .and_then(|(_, exp)| exp.checked_duration_since(Instant::now()))
    }

    /// Live keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        let now = Instant::now();
        let store = self.shared.store.lock();
        let mut keys: Vec<_> = store
            .entries
            .iter()
            .filter(|(_, (held, exp))| *exp > now && matches!(held, Held::Entry(..)))
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    /// Calls of `get` and `get_many` (per key) so far, across all nodes.
    pub fn get_count(&self) -> u64 {
        self.shared.gets.load(Relaxed)
    }

    /// Calls of `set` so far, across all nodes.
    pub fn set_count(&self) -> u64 {
        self.shared.sets.load(Relaxed)
    }

    /// Calls of `delete` so far, across all nodes.
    pub fn delete_count(&self) -> u64 {
        self.shared.deletes.load(Relaxed)
    }
}
