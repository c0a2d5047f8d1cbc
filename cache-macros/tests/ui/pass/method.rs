//! `&self` methods in an inherent impl: one keyed by a field, one by the whole receiver.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::{CacheKey, cached};

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[derive(CacheKey)]
#[cache_key(prefix = "repo", id = id)]
pub struct Repo {
    id: u32,
    region: String,
}

impl Repo {
    const PREFIX: &str = "repo";

    /// Keyed by the repository id only.
    #[cached(key = (self.id, name))]
    pub async fn greeting(&self, name: &str) -> String {
        CALLS.fetch_add(1, Ordering::SeqCst);
        format!("{} says hi to {name}", self.region)
    }

    /// An associated function: it names `Self`, so its companions are `Self::…` too.
    #[cached(key = id)]
    pub fn label(id: u32) -> String {
        CALLS.fetch_add(1, Ordering::SeqCst);
        format!("{}-{id}", Self::PREFIX)
    }

    /// By-value and `Arc` receivers work as well; companions take `&self`.
    #[cached(key = self.id)]
    pub fn into_region(self) -> String {
        CALLS.fetch_add(1, Ordering::SeqCst);
        self.region
    }

    #[cached(key = self.id)]
    pub async fn shared_region(self: Arc<Self>, #[cache(skip)] mut attempts: u8) -> String {
        attempts += 1;
        CALLS.fetch_add(usize::from(attempts), Ordering::SeqCst);
        self.region.clone()
    }

    /// Keyed by the whole receiver (its `KeyPart`) and `n`.
    #[cached]
    pub fn double(&self, n: u32) -> u32 {
        CALLS.fetch_add(1, Ordering::SeqCst);
        n * 2 + self.id
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let repo = Repo {
        id: 1,
        region: "eu".into(),
    };
    assert_eq!(repo.greeting("Ada").await, "eu says hi to Ada");
    assert_eq!(repo.greeting("Ada").await, "eu says hi to Ada");
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(repo.double(4), 9);
    assert_eq!(repo.double(4), 9);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);

    repo.greeting_invalidate(&"Ada").await;
    assert_eq!(repo.greeting("Ada").await, "eu says hi to Ada");
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
    assert!(repo.double_cache_key(&4).as_str().ends_with("Repo:1:4"));

    assert_eq!(Repo::label(5), "repo-5");
    assert_eq!(Repo::label(5), "repo-5");
    assert_eq!(CALLS.load(Ordering::SeqCst), 4);
    Repo::label_invalidate(&5).await;

    let shared = Arc::new(Repo {
        id: 2,
        region: "us".into(),
    });
    assert_eq!(shared.clone().shared_region(0).await, "us");
    assert_eq!(shared.clone().shared_region(0).await, "us");
    assert_eq!(CALLS.load(Ordering::SeqCst), 5);
    assert_eq!(
        Repo {
            id: 2,
            region: "us".into()
        }
        .into_region(),
        "us"
    );
    assert_eq!(
        Repo {
            id: 2,
            region: "xx".into()
        }
        .into_region(),
        "us"
    );
    assert_eq!(CALLS.load(Ordering::SeqCst), 6);
}
