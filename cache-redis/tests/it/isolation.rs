//! Two applications (namespaces) sharing one Redis never read, invalidate or flush each
//! other's entries, even for the very same cache key.

use crate::common;

use std::time::Duration;

use cache_core::{Cache, CacheKey, LocalTier, Options};
use cache_redis::RedisTier;
use cache_redis::test_support::RedisServer;

fn app(tier: &RedisTier, namespace: &str, local: bool) -> Cache {
    let builder = Cache::builder().namespace(namespace).remote(tier.clone());
    if local {
        builder.local(LocalTier::new(1 << 20)).build()
    } else {
        builder.without_local().build()
    }
}

fn opts() -> Options {
    Options::new().ttl(Duration::from_secs(600)).tags(["users"])
}

async fn load(cache: &Cache, key: &CacheKey, value: &str) -> String {
    let value = value.to_string();
    let got: Result<String, ()> = cache
        .get_or_load(key, &opts(), || async { Ok(value) })
        .await;
    got.unwrap()
}

#[tokio::test]
async fn namespaces_on_one_server_never_see_each_other() {
    let server = RedisServer::start();
    let tier = common::tier(&server.url()).await;
    // Remote-only, so every read goes to Redis; and with a local tier plus the backplane.
    for local in [false, true] {
        let (a, b) = (app(&tier, "shop", local), app(&tier, "blog", local));
        let key = CacheKey::new("user", &(local, 42));
        assert_eq!(load(&a, &key, "shop's user").await, "shop's user");
        assert_eq!(
            b.get::<String>(&key).await,
            None,
            "blog does not see shop's entry"
        );
        assert_eq!(load(&b, &key, "blog's user").await, "blog's user");
        assert_eq!(
            load(&a, &key, "reloaded").await,
            "shop's user",
            "shop keeps its own"
        );
        assert_ne!(a.remote_key(&key), b.remote_key(&key));

        // Invalidating a key or a tag in one namespace leaves the other alone.
        a.invalidate(&key).await;
        a.invalidate_tag("users").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(a.get::<String>(&key).await, None);
        assert_eq!(b.get::<String>(&key).await.as_deref(), Some("blog's user"));
    }
}

/// The namespace is escaped before it is joined to the key with `:`, so a namespace that
/// contains `:` can never produce another namespace's Redis key.
#[tokio::test]
async fn namespaces_containing_the_separator_stay_apart() {
    let server = RedisServer::start();
    let tier = common::tier(&server.url()).await;
    let (a, b) = (app(&tier, "a", false), app(&tier, "a:b", false));
    let key_a = CacheKey::new("b", &("c", "d"));
    let key_b = CacheKey::new("c", &"d");
    assert_ne!(a.remote_key(&key_a), b.remote_key(&key_b));
    assert_eq!(load(&a, &key_a, "a's").await, "a's");
    assert_eq!(b.get::<String>(&key_b).await, None);
}
