//! Helpers shared by the engine tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, LocalTier};

/// Counts loader calls.
#[derive(Clone, Default)]
pub struct Calls(Arc<AtomicUsize>);

impl Calls {
    pub fn hit(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Waits until `n` calls were counted. A task that counts itself right before calling the
    /// cache joins the key's flight without yielding in between, so a loader that waits for
    /// every caller (plus a margin for a thread the OS paused in that gap) makes "one load"
    /// independent of how slowly a busy machine schedules the tasks.
    pub async fn reach(&self, n: usize) {
        while self.get() < n {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}

pub fn local_only() -> Cache {
    Cache::builder().namespace("t").build()
}

pub fn with_remote(remote: &MemoryRemote) -> Cache {
    Cache::builder()
        .namespace("t")
        .local(LocalTier::new(16 << 20))
        .remote(remote.clone())
        .build()
}

pub fn remote_only(remote: &MemoryRemote) -> Cache {
    Cache::builder()
        .namespace("t")
        .without_local()
        .remote(remote.clone())
        .build()
}

pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
