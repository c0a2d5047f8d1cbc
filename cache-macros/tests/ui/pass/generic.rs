//! Generic functions: the type parameters are part of the key, so `parse::<u8>` and
//! `parse::<u64>` never share an entry. `impl Trait` arguments are skipped or `impl KeyPart`.
use std::fmt::Display;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::{Cacheable, KeyPart, cached};

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[cached]
fn parse<T: FromStr + Cacheable>(text: &str) -> Option<T> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    text.parse().ok()
}

#[cached]
async fn describe<const N: usize>(
    id: impl KeyPart + Display,
    #[cache(skip)] log: impl Fn(&str),
) -> String {
    CALLS.fetch_add(1, Ordering::SeqCst);
    log("loading");
    format!("{id}x{N}")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(parse::<u8>("7"), Some(7));
    assert_eq!(parse::<u8>("7"), Some(7));
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(parse::<u64>("7"), Some(7));
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);

    assert_eq!(describe::<2>(5, |_| {}).await, "5x2");
    assert_eq!(describe::<2>(5, |_| {}).await, "5x2");
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
    assert_eq!(describe::<3>(5, |_| {}).await, "5x3");
    assert_eq!(CALLS.load(Ordering::SeqCst), 4);
}
