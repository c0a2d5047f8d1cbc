//! `<fn>_refresh(args)`: the companion that loads now, whatever is cached, and writes the
//! value through, so later calls are served the refreshed value.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};

use cache_core::{Cache, cached};

static REFRESHING: LazyLock<Cache> = LazyLock::new(|| Cache::builder().namespace("rf").build());

struct Db {
    version: AtomicU32,
}

static DB: Db = Db {
    version: AtomicU32::new(1),
};
static PRICE_LOADS: AtomicU32 = AtomicU32::new(0);

#[cached(cache = REFRESHING, ttl = "10m")]
async fn price(#[cache(skip)] db: &Db, sku: u32) -> Result<String, String> {
    PRICE_LOADS.fetch_add(1, Ordering::SeqCst);
    Ok(format!("sku {sku} v{}", db.version.load(Ordering::SeqCst)))
}

#[tokio::test]
async fn refresh_loads_over_the_cached_value_and_later_calls_get_the_new_one() {
    assert_eq!(price(&DB, 7).await.unwrap(), "sku 7 v1");
    DB.version.store(2, Ordering::SeqCst);
    assert_eq!(price(&DB, 7).await.unwrap(), "sku 7 v1", "still cached");
    assert_eq!(price_refresh(&DB, 7).await.unwrap(), "sku 7 v2");
    assert_eq!(price(&DB, 7).await.unwrap(), "sku 7 v2");
    assert_eq!(PRICE_LOADS.load(Ordering::SeqCst), 2);
}

static COUNTS: AtomicU32 = AtomicU32::new(0);

#[cached(cache = REFRESHING)]
fn count(n: u32) -> u32 {
    n + COUNTS.fetch_add(1, Ordering::SeqCst)
}

#[test]
fn a_sync_function_gets_a_sync_refresh() {
    assert_eq!(count(10), 10);
    assert_eq!(count(10), 10);
    assert_eq!(count_refresh(10), 11);
    assert_eq!(count(10), 11);
}
