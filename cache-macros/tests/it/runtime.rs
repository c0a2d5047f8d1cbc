//! What `#[cached]` and `#[derive(CacheKey)]` do at run time, through the global cache or a
//! cache of the test's own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use cache_core::{Cache, CacheKey, cached, request_scope};
use chrono::{DateTime, TimeZone, Utc};

fn loads(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

static SQUARES: AtomicUsize = AtomicUsize::new(0);

#[cached(ttl = "1m")]
async fn square(n: u64) -> u64 {
    SQUARES.fetch_add(1, Ordering::SeqCst);
    n * n
}

#[tokio::test]
async fn a_second_call_with_the_same_arguments_is_served_from_the_cache() {
    assert_eq!(square(12).await, 144);
    assert_eq!(square(12).await, 144);
    assert_eq!(loads(&SQUARES), 1);
    assert_eq!(square(13).await, 169);
    assert_eq!(loads(&SQUARES), 2);
}

static FLAKY: AtomicUsize = AtomicUsize::new(0);

#[cached]
async fn flaky(id: u32) -> Result<String, Arc<String>> {
    let attempt = FLAKY.fetch_add(1, Ordering::SeqCst);
    if attempt < 2 {
        return Err(Arc::new(format!("attempt {attempt} failed")));
    }
    Ok(format!("record {id}"))
}

#[tokio::test]
async fn errors_are_returned_but_not_cached() {
    assert_eq!(flaky(1).await.unwrap_err().as_str(), "attempt 0 failed");
    assert_eq!(flaky(1).await.unwrap_err().as_str(), "attempt 1 failed");
    assert_eq!(flaky(1).await.as_deref(), Ok("record 1"));
    assert_eq!(flaky(1).await.as_deref(), Ok("record 1"));
    assert_eq!(loads(&FLAKY), 3);
}

struct Db {
    queries: AtomicUsize,
}

impl Db {
    async fn user(&self, tenant: &str, id: u64) -> Result<String, Arc<std::io::Error>> {
        self.queries.fetch_add(1, Ordering::SeqCst);
        Ok(format!("{tenant}/{id}"))
    }
}

#[cached(key = format!("{tenant}:{id}"), name = "runtime_users")]
async fn user(
    #[cache(skip)] db: &Db,
    tenant: &str,
    id: u64,
) -> Result<String, Arc<std::io::Error>> {
    db.user(tenant, id).await
}

#[tokio::test]
async fn a_key_expression_with_a_skipped_db_handle_caches_per_key() {
    let (first, second) = (Db { queries: 0.into() }, Db { queries: 0.into() });
    assert_eq!(user(&first, "acme", 1).await.unwrap(), "acme/1");
    // Another handle, same key: served from the cache.
    assert_eq!(user(&second, "acme", 1).await.unwrap(), "acme/1");
    assert_eq!(user(&second, "acme", 2).await.unwrap(), "acme/2");
    assert_eq!((loads(&first.queries), loads(&second.queries)), (1, 1));
    assert_eq!(
        user_cache_key(&"acme", &1).as_str(),
        "runtime_users:acme%3A1"
    );
}

#[tokio::test]
async fn invalidate_forces_the_next_call_to_load_again() {
    let db = Db { queries: 0.into() };
    user(&db, "initech", 7).await.unwrap();
    user(&db, "initech", 7).await.unwrap();
    assert_eq!(loads(&db.queries), 1);
    user_invalidate(&"initech", &7).await;
    user(&db, "initech", 7).await.unwrap();
    assert_eq!(loads(&db.queries), 2);
}

static ORDERS: AtomicUsize = AtomicUsize::new(0);

#[cached(name = "runtime_orders")]
fn order_total(#[cache(skip)] db: &Db, order: u64, currency: &str) -> String {
    let _ = db;
    ORDERS.fetch_add(1, Ordering::SeqCst);
    format!("{order} {currency}")
}

#[test]
fn skipped_arguments_are_not_in_the_default_key() {
    assert_eq!(
        order_total_cache_key(&5, &"EUR"),
        CacheKey::new("runtime_orders", &(5_u64, "EUR"))
    );
    let (a, b) = (Db { queries: 0.into() }, Db { queries: 0.into() });
    assert_eq!(order_total(&a, 5, "EUR"), "5 EUR");
    assert_eq!(order_total(&b, 5, "EUR"), "5 EUR");
    assert_eq!(loads(&ORDERS), 1);
}

#[derive(CacheKey, Clone)]
#[cache_key(prefix = "store", id = id, version = updated_at)]
struct Store {
    id: i64,
    updated_at: DateTime<Utc>,
    name: String,
}

static RENDERS: AtomicUsize = AtomicUsize::new(0);

#[cached(key = store.cache_key())]
async fn render(store: &Store) -> String {
    RENDERS.fetch_add(1, Ordering::SeqCst);
    format!("<h1>{}</h1>", store.name)
}

#[tokio::test]
async fn a_changed_updated_at_yields_a_new_key_and_a_fresh_render() {
    let at = |secs| Utc.timestamp_opt(secs, 123_456_000).unwrap();
    let mut store = Store {
        id: 42,
        updated_at: at(1_732_700_000),
        name: "Old".into(),
    };
    assert_eq!(store.cache_key().as_str(), "store/42-1732700000123456");
    assert_eq!(render(&store).await, "<h1>Old</h1>");
    assert_eq!(render(&store).await, "<h1>Old</h1>");
    assert_eq!(loads(&RENDERS), 1);

    store.name = "New".into();
    store.updated_at = at(1_732_700_001);
    assert_eq!(store.cache_key().as_str(), "store/42-1732700001123456");
    assert_eq!(render(&store).await, "<h1>New</h1>");
    assert_eq!(loads(&RENDERS), 2);
}

#[derive(CacheKey)]
#[cache_key(prefix = "account", id = id)]
struct Account {
    id: u32,
    region: &'static str,
    loads: AtomicUsize,
}

impl Account {
    /// Keyed by the whole account (its `KeyPart`: the id).
    #[cached]
    pub async fn balance(&self) -> u64 {
        self.loads.fetch_add(1, Ordering::SeqCst);
        u64::from(self.id) * 100
    }

    /// Keyed by the region only: accounts of one region share the entry.
    #[cached(key = self.region)]
    pub async fn region_banner(&self) -> String {
        self.loads.fetch_add(1, Ordering::SeqCst);
        format!("welcome to {}", self.region)
    }
}

#[tokio::test]
async fn two_instances_do_not_share_entries_unless_the_key_says_so() {
    let a = Account {
        id: 9001,
        region: "eu-runtime",
        loads: 0.into(),
    };
    let b = Account {
        id: 9002,
        region: "eu-runtime",
        loads: 0.into(),
    };
    assert_eq!((a.balance().await, a.balance().await), (900_100, 900_100));
    assert_eq!(b.balance().await, 900_200);
    assert_eq!((loads(&a.loads), loads(&b.loads)), (1, 1));

    assert_eq!(a.region_banner().await, "welcome to eu-runtime");
    assert_eq!(b.region_banner().await, "welcome to eu-runtime");
    assert_eq!(
        (loads(&a.loads), loads(&b.loads)),
        (2, 1),
        "b is served a's banner"
    );
}

static SCOPED: AtomicUsize = AtomicUsize::new(0);

#[cached(tiers = "request")]
async fn current_user_flags(user: u32) -> Vec<String> {
    SCOPED.fetch_add(1, Ordering::SeqCst);
    vec![format!("beta:{user}")]
}

#[tokio::test]
async fn the_request_tier_serves_repeats_within_one_scope_only() {
    request_scope(async {
        current_user_flags(1).await;
        current_user_flags(1).await;
    })
    .await;
    assert_eq!(loads(&SCOPED), 1);
    request_scope(async { current_user_flags(1).await }).await;
    assert_eq!(loads(&SCOPED), 2, "a new scope starts empty");
}

static OWN: LazyLock<Cache> = LazyLock::new(|| Cache::builder().namespace("own").build());
static LOOKUPS: AtomicUsize = AtomicUsize::new(0);

#[cached(cache = OWN, tiers = "local")]
fn lookup(code: &str) -> Option<u16> {
    LOOKUPS.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(20));
    code.parse().ok()
}

#[test]
fn a_sync_function_loads_once_for_many_threads_and_leaves_none_uncached() {
    let found = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| lookup("404"))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(found, vec![Some(404); 4]);
    assert_eq!(loads(&LOOKUPS), 1);
    assert_eq!(lookup("nope"), None);
    assert_eq!(lookup("nope"), None);
    assert_eq!(loads(&LOOKUPS), 3);
    assert_eq!(OWN.stats().loads, 3);
}

static STATUS: LazyLock<Cache> = LazyLock::new(|| Cache::builder().build());

#[cached(cache = STATUS)]
fn status_text(code: u16) -> String {
    format!("status {code}")
}

#[tokio::test]
async fn a_sync_function_can_be_called_from_async_code() {
    assert_eq!(status_text(200), "status 200");
    assert_eq!(status_text(200), "status 200");
    assert_eq!(STATUS.stats().loads, 1);
    let cached = STATUS.get::<String>(&status_text_cache_key(&200)).await;
    assert_eq!(cached.as_deref(), Some("status 200"));
}

#[test]
fn generated_futures_are_send_when_their_inputs_are() {
    fn assert_send<T: Send>(_: T) {}
    let db = Db { queries: 0.into() };
    assert_send(user(&db, "acme", 1));
    assert_send(square(2));
}

#[tokio::test]
async fn a_key_expression_that_is_a_cache_key_is_used_as_it_is() {
    use cache_core::{CacheKey, Micros};

    #[cache_core::cached(name = "chains", key = CacheKey::collection("chains", &chain_id, 800, Micros(*max)), cache = CACHE.clone())]
    async fn chain_list(chain_id: i64, max: i64) -> Result<String, String> {
        Ok(format!("{chain_id}@{max}"))
    }

    static CACHE: std::sync::LazyLock<cache_core::Cache> =
        std::sync::LazyLock::new(|| cache_core::Cache::builder().build());
    assert_eq!(chain_list(7, 5).await.as_deref(), Ok("7@5"));
    let key = chain_list_cache_key(&7, &5);
    assert!(key.as_str().starts_with("chains/query-"), "{key}");
    assert!(key.as_str().ends_with("-800-5"), "{key}");
    assert_eq!(CACHE.get::<String>(&key).await.as_deref(), Some("7@5"));
}
