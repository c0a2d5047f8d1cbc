//! `#[cached]` on `async fn`s that `#[async_trait]` rewrites: in a trait impl (with a skipped
//! parameter and a key expression), in a `?Send` impl, and as a default method of the trait.
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use cache_core::cached;

static CALLS: AtomicUsize = AtomicUsize::new(0);

pub struct Db;

#[async_trait]
pub trait Users: Sync {
    async fn name(&self, db: &Db, id: u64) -> Option<String>;

    /// A default method: the trait's own `#[async_trait]` rewrites it the same way.
    #[cached(key = id, name = "ui_async_trait_greeting")]
    async fn greeting(#[cache(skip)] &self, id: u64) -> String {
        CALLS.fetch_add(1, Ordering::SeqCst);
        format!("hello {id}")
    }
}

pub struct Directory;

#[async_trait]
impl Users for Directory {
    #[cached(key = id, ttl = "30s")]
    async fn name(#[cache(skip)] &self, #[cache(skip)] _db: &Db, id: u64) -> Option<String> {
        CALLS.fetch_add(1, Ordering::SeqCst);
        Some(format!("user {id}"))
    }
}

#[async_trait(?Send)]
pub trait Local {
    async fn len(&self, text: String) -> usize;
}

#[async_trait(?Send)]
impl Local for Directory {
    #[cached(key = text.as_str())]
    async fn len(#[cache(skip)] &self, text: String) -> usize {
        CALLS.fetch_add(1, Ordering::SeqCst);
        text.len()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let users: &dyn Users = &Directory;
    assert_eq!(users.name(&Db, 1).await.as_deref(), Some("user 1"));
    assert_eq!(users.name(&Db, 1).await.as_deref(), Some("user 1"));
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    assert_eq!(users.greeting(2).await, "hello 2");
    assert_eq!(users.greeting(2).await, "hello 2");
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
    let local: &dyn Local = &Directory;
    assert_eq!(local.len("abc".into()).await, 3);
    assert_eq!(local.len("abc".into()).await, 3);
    assert_eq!(CALLS.load(Ordering::SeqCst), 3);
}
