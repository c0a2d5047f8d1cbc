//! `#[cached(batch)]` on a free function (global cache, `Vec` ids, `Result`) and on a method
//! (skipped `&self`, slice ids, infallible map): the body sees only the ids not cached yet.
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::{Cache, cached};

static LOADED: AtomicUsize = AtomicUsize::new(0);

#[cached(batch, ttl = "5m", tags = ["squares"])]
async fn squares(ids: Vec<u64>) -> Result<HashMap<u64, u64>, String> {
    LOADED.fetch_add(ids.len(), Ordering::SeqCst);
    Ok(ids.into_iter().map(|id| (id, id * id)).collect())
}

struct Repo {
    prefix: &'static str,
}

impl Repo {
    #[cached(batch)]
    async fn labels(#[cache(skip)] &self, ids: &[u8]) -> HashMap<u8, String> {
        LOADED.fetch_add(ids.len(), Ordering::SeqCst);
        ids.iter().map(|id| (*id, format!("{}{id}", self.prefix))).collect()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_core::install(Cache::builder().build());
    assert_eq!(squares(vec![2, 3]).await.unwrap()[&3], 9);
    assert_eq!(squares(vec![3, 4]).await.unwrap().len(), 2);
    assert_eq!(LOADED.load(Ordering::SeqCst), 3, "3 was cached");

    let repo = Repo { prefix: "#" };
    assert_eq!(repo.labels(&[1, 1]).await[&1], "#1");
    assert_eq!(repo.labels(&[1]).await[&1], "#1");
    assert_eq!(LOADED.load(Ordering::SeqCst), 4, "duplicates load once, 1 was cached");
}
