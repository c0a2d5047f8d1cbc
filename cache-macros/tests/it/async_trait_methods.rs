//! `#[cached]` on the methods of an `#[async_trait]` impl, called through `&dyn Trait`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use cache_core::{CacheKey, cached};

#[async_trait]
trait Catalog: Send + Sync {
    async fn title(&self, sku: &str) -> String;
    async fn stock(&self, warehouse: u32) -> Result<u64, Arc<String>>;
}

#[derive(CacheKey)]
#[cache_key(prefix = "shop", id = id)]
struct Shop {
    id: u32,
    loads: AtomicUsize,
}

#[async_trait]
impl Catalog for Shop {
    #[cached(key = (self.id, sku), ttl = "1m", name = "async_trait_titles")]
    async fn title(&self, sku: &str) -> String {
        self.loads.fetch_add(1, Ordering::SeqCst);
        format!("{sku} at shop {}", self.id)
    }

    /// The default key: the receiver (its `KeyPart`, the id) and `warehouse`.
    #[cached]
    async fn stock(&self, warehouse: u32) -> Result<u64, Arc<String>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        if warehouse == 0 {
            return Err(Arc::new("no warehouse 0".into()));
        }
        Ok(u64::from(self.id * warehouse))
    }
}

#[tokio::test]
async fn an_async_trait_method_called_through_dyn_trait_is_a_hit_the_second_time() {
    let shop = Shop {
        id: 7100,
        loads: 0.into(),
    };
    let catalog: &dyn Catalog = &shop;
    assert_eq!(catalog.title("mug").await, "mug at shop 7100");
    assert_eq!(catalog.title("mug").await, "mug at shop 7100");
    assert_eq!(
        shop.loads.load(Ordering::SeqCst),
        1,
        "the second call is a hit"
    );
    assert_eq!(catalog.title("cup").await, "cup at shop 7100");
    assert_eq!(shop.loads.load(Ordering::SeqCst), 2);

    // Another record with the same key is served the cached entry.
    let twin = Shop {
        id: 7100,
        loads: 0.into(),
    };
    let twin: Box<dyn Catalog> = Box::new(twin);
    assert_eq!(twin.title("mug").await, "mug at shop 7100");
}

#[tokio::test]
async fn results_of_async_trait_methods_cache_only_ok() {
    let shop = Arc::new(Shop {
        id: 7200,
        loads: 0.into(),
    });
    let catalog: Arc<dyn Catalog> = shop.clone();
    // The future is `Send`, as `#[async_trait]` promises: it runs on another task.
    let spawned = tokio::spawn({
        let catalog = Arc::clone(&catalog);
        async move { catalog.stock(3).await }
    });
    assert_eq!(spawned.await.unwrap(), Ok(21_600));
    assert_eq!(catalog.stock(3).await, Ok(21_600));
    assert_eq!(
        shop.loads.load(Ordering::SeqCst),
        1,
        "the second call is a hit"
    );
    assert!(catalog.stock(0).await.is_err());
    assert!(catalog.stock(0).await.is_err());
    assert_eq!(
        shop.loads.load(Ordering::SeqCst),
        3,
        "errors are not cached"
    );
}
