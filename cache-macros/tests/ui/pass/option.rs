//! `Option<T>`: `Some` is cached, `None` is not, unless `cache_none = true`.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::cached;

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[cached]
async fn find(id: u32) -> Option<String> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    id.is_multiple_of(2).then(|| format!("even {id}"))
}

#[cached(cache_none = true)]
async fn find_remembering_misses(id: u32) -> Option<String> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    id.is_multiple_of(2).then(|| format!("even {id}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(find(2).await.as_deref(), Some("even 2"));
    assert_eq!(find(2).await.as_deref(), Some("even 2"));
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(find(3).await, None);
    assert_eq!(find(3).await, None);
    assert_eq!(CALLS.load(Ordering::SeqCst), 3, "None is not cached");

    assert_eq!(find_remembering_misses(3).await, None);
    assert_eq!(find_remembering_misses(3).await, None);
    assert_eq!(CALLS.load(Ordering::SeqCst), 4, "cache_none caches None");
}
