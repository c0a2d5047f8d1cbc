//! A sync function: request and local tiers, no runtime needed.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::cached;

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[cached(ttl = "1h", tiers = "request, local")]
fn fib(n: u64) -> u64 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    (1..=n).fold((0_u64, 1_u64), |(a, b), _| (b, a + b)).0
}

fn main() {
    assert_eq!(fib(40), 102_334_155);
    assert_eq!(fib(40), 102_334_155);
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(fib(10), 55);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
}
