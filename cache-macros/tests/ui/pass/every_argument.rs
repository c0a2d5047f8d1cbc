//! Every `#[cached]` argument at once.
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_core::{Cache, cached};

static CALLS: AtomicUsize = AtomicUsize::new(0);
static CACHE: LazyLock<Cache> = LazyLock::new(|| Cache::builder().build());

struct Client;

#[cached(
    key = format!("{tenant}/{id}"),
    ttl = "10m",
    stale = Duration::from_secs(3600),
    jitter = 0.05,
    early_refresh = false,
    tags = ["profiles", format!("tenant:{tenant}")],
    name = "profiles",
    flag = "profiles_flag",
    tiers = "request, local, redis",
    version = 3,
    cache = CACHE,
    crate = ::cache_core,
    cache_none = true,
    soft_timeout = "200ms",
    hard_timeout = "2s",
    companions = true,
)]
pub async fn profile(#[cache(skip)] _client: &Client, tenant: &str, id: u64) -> Option<String> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    (id > 0).then(|| format!("{tenant}-{id}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(profile(&Client, "acme", 0).await, None);
    assert_eq!(profile(&Client, "acme", 0).await, None);
    assert_eq!(profile(&Client, "acme", 1).await.as_deref(), Some("acme-1"));
    assert_eq!(profile(&Client, "acme", 1).await.as_deref(), Some("acme-1"));
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
    assert_eq!(
        profile_cache_key(&"acme", &1).as_str(),
        "profiles@3:acme%2F1"
    );

    CACHE.invalidate_tag("tenant:acme").await;
    assert_eq!(profile(&Client, "acme", 1).await.as_deref(), Some("acme-1"));
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
}
