//! `cache = …`: a static cache, and a cache held by the receiver.
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::{Cache, cached};

static CALLS: AtomicUsize = AtomicUsize::new(0);
static SHARED: LazyLock<Cache> = LazyLock::new(|| Cache::builder().namespace("shared").build());

#[cached(cache = SHARED)]
async fn square(n: u64) -> u64 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    n * n
}

/// The receiver only holds the cache: skipped, so it is not part of the key.
struct Service {
    cache: Cache,
}

impl Service {
    #[cached(cache = self.cache, key = n)]
    pub fn cube(#[cache(skip)] &self, n: u64) -> u64 {
        CALLS.fetch_add(1, Ordering::SeqCst);
        n * n * n
    }

    #[cached(cache = self.cache, key = n)]
    pub fn bump(#[cache(skip)] &mut self, n: u64) -> u64 {
        CALLS.fetch_add(1, Ordering::SeqCst);
        n + 1
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(square(3).await, 9);
    assert_eq!(square(3).await, 9);
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert!(SHARED.get::<u64>(&square_cache_key(&3)).await.is_some());
    assert!(
        cache_core::global()
            .get::<u64>(&square_cache_key(&3))
            .await
            .is_none()
    );

    let mut service = Service {
        cache: Cache::builder().build(),
    };
    assert_eq!(service.cube(2), 8);
    assert_eq!(service.cube(2), 8);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(service.bump(2), 3);
    assert_eq!(service.bump(2), 3);
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
    assert_eq!(service.cache.stats().loads, 2);
}
