//! Call counters of [`MemoryRemote`], for tests that assert how often a tier was asked.

use std::sync::atomic::Ordering::Relaxed;

use super::MemoryRemote;

impl MemoryRemote {
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
