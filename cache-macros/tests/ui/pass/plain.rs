//! Any other return type is cached as is; parameter patterns work.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::cached;

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[cached]
async fn area((w, h): (u32, u32), mut scale: u32) -> Vec<u32> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    scale += 1;
    vec![w * h * scale]
}

#[cached(key = (a, b))]
fn sum([a, b]: [i64; 2]) -> i64 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    a + b
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(area((2, 3), 1).await, vec![12]);
    assert_eq!(area((2, 3), 1).await, vec![12]);
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(area((3, 2), 1).await, vec![12]);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
    assert!(area_cache_key(&(3, 2), &1).as_str().ends_with("area:3:2:1"));

    assert_eq!(sum([1, 2]), 3);
    assert_eq!(sum([1, 2]), 3);
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
}
