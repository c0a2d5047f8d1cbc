// One mistake, one error: a bad `#[derive(CacheKey)]` or `#[cached(..)]` still defines the
// items callers use (`cache_key()`, the function, its companions), so none of the calls in
// `main` is reported.
use cache_core::{CacheKey, cached};

#[derive(CacheKey)]
#[cache_key(prefix = "store", id = store_id)]
struct Store {
    id: i64,
}

#[cached(ttl = "10 minutos")]
async fn user_name(id: u64) -> String {
    format!("user {id}")
}

struct Repo;

impl Repo {
    #[cached(tiers = "local, disk")]
    pub fn count(&self, #[cache(skip)] verbose: bool, shard: u8) -> u64 {
        u64::from(verbose) + u64::from(shard)
    }
}

fn main() {
    let store = Store { id: 1 };
    let _ = (store.id, store.cache_key());
    let _ = user_name_cache_key(&1);
    let _ = user_name_invalidate(&1);
    let _ = user_name(1);
    let repo = Repo;
    let _ = (repo.count(true, 3), repo.count_cache_key(&3));
    let _ = repo.count_invalidate(&3);
}
