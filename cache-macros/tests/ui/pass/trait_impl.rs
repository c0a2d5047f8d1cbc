//! A native `async fn` in a trait impl: no companions (a trait impl cannot gain items).
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::cached;

static CALLS: AtomicUsize = AtomicUsize::new(0);

trait Prices {
    async fn price(&self, sku: &str) -> Option<u64>;
    fn tax(&self, cents: u64) -> u64;
}

struct Shop {
    id: u8,
}

impl Prices for Shop {
    #[cached(key = (self.id, sku), ttl = "30s")]
    async fn price(&self, sku: &str) -> Option<u64> {
        CALLS.fetch_add(1, Ordering::SeqCst);
        Some(sku.len() as u64 * 100)
    }

    /// The receiver does not change the tax: skipped, so all shops share entries.
    #[cached]
    fn tax(#[cache(skip)] &self, cents: u64) -> u64 {
        CALLS.fetch_add(1, Ordering::SeqCst);
        cents / 5
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let shop = Shop { id: 3 };
    assert_eq!(shop.price("abc").await, Some(300));
    assert_eq!(shop.price("abc").await, Some(300));
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(shop.tax(500), 100);
    assert_eq!(Shop { id: 4 }.tax(500), 100);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
}
