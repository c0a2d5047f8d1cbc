//! `crate = path`: the generated code goes through `facade` instead of `::cache_core`.
use std::sync::atomic::{AtomicUsize, Ordering};

mod facade {
    pub use cache_core::*;
}

use facade::{CacheKey, cached};

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[derive(CacheKey)]
#[cache_key(crate = crate::facade, prefix = "item", id = 0)]
struct Item(u32);

#[cached(crate = crate::facade)]
fn label(item: &Item) -> String {
    CALLS.fetch_add(1, Ordering::SeqCst);
    format!("item {}", item.0)
}

fn main() {
    assert_eq!(label(&Item(4)), "item 4");
    assert_eq!(label(&Item(4)), "item 4");
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(Item(4).cache_key().as_str(), "item/4");
}
