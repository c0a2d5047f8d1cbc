//! An async free function: `key = format!`, a skipped handle, and both companions.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::cached;

struct Db {
    calls: AtomicUsize,
}

/// Loads a user's name.
#[cached(key = format!("user:{id}"), ttl = "10m", name = "users")]
pub async fn user_name(#[cache(skip)] db: &Db, id: i64) -> Result<String, String> {
    db.calls.fetch_add(1, Ordering::SeqCst);
    Ok(format!("user {id}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let db = Db {
        calls: AtomicUsize::new(0),
    };
    assert_eq!(user_name(&db, 7).await.as_deref(), Ok("user 7"));
    assert_eq!(user_name(&db, 7).await.as_deref(), Ok("user 7"));
    assert_eq!(db.calls.load(Ordering::SeqCst), 1);

    assert_eq!(user_name_cache_key(&7).as_str(), "users:user%3A7");
    user_name_invalidate(&7).await;
    assert_eq!(user_name(&db, 7).await.as_deref(), Ok("user 7"));
    assert_eq!(db.calls.load(Ordering::SeqCst), 2);
}
