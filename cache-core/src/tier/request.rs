//! The request tier: a map that lives exactly as long as one [`request_scope`] future.
//!
//! A handler that asks for the same cached value several times (directly or through helpers)
//! pays for one lookup; the rest are answered from this map. It is read with `task_local`'s
//! synchronous `try_with`, so sync code running inside the scope's task uses it too. Outside a
//! scope — and inside tasks spawned from one, which do not inherit task-locals — it is skipped.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;

use super::{Held, Ticket};
use crate::CacheKey;

tokio::task_local! {
    static SCOPE: RequestMap;
}

/// A value in the request tier, with the fence ticket of the read that produced it: another
/// task's invalidation cannot reach into this scope, so a hit checks the ticket instead.
pub(crate) type Scoped = (Held, Ticket);

/// The per-scope storage: for each `Cache` (by id), its decoded values.
#[derive(Default)]
pub(crate) struct RequestMap {
    caches: RefCell<Vec<(u64, HashMap<CacheKey, Scoped>)>>,
}

impl RequestMap {
    pub(crate) fn new() -> RequestMap {
        RequestMap::default()
    }
}

/// Runs `fut` with a fresh request tier; values cached inside are dropped when it completes.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert!(!cache_core::in_request_scope());
/// let inside = cache_core::request_scope(async { cache_core::in_request_scope() }).await;
/// assert!(inside);
/// # }
/// ```
pub async fn request_scope<F: Future>(fut: F) -> F::Output {
    SCOPE.scope(RequestMap::new(), fut).await
}

/// Whether the current task runs inside a [`request_scope`].
pub fn in_request_scope() -> bool {
    SCOPE.try_with(|_| ()).is_ok()
}

pub(crate) fn scoped<F: Future>(fut: F) -> tokio::task::futures::TaskLocalFuture<RequestMap, F> {
    SCOPE.scope(RequestMap::new(), fut)
}

/// The value cached under `key` for cache `cache_id` in the current scope; the outer `None`
/// means there is no scope (so no lookup happened), the inner one a miss.
pub(crate) fn get(cache_id: u64, key: &str) -> Option<Option<Scoped>> {
    SCOPE
        .try_with(|map| {
            let caches = map.caches.borrow();
            caches
                .iter()
                .find(|(id, _)| *id == cache_id)
                .and_then(|(_, entries)| entries.get(key).cloned())
        })
        .ok()
}

/// Stores `value` for the rest of the current scope (no-op outside a scope).
pub(crate) fn insert(cache_id: u64, key: &CacheKey, value: Held, ticket: Ticket) {
    let _ = SCOPE.try_with(|map| {
        let mut caches = map.caches.borrow_mut();
        let index = match caches.iter().position(|(id, _)| *id == cache_id) {
            Some(i) => i,
            None => {
                caches.push((cache_id, HashMap::new()));
                caches.len() - 1
            }
        };
        caches[index].1.insert(key.clone(), (value, ticket));
    });
}

/// Forgets `key` in the current scope, so a write or invalidation is seen by the same request.
pub(crate) fn remove(cache_id: u64, key: &str) {
    let _ = SCOPE.try_with(|map| {
        if let Some((_, entries)) = map
            .caches
            .borrow_mut()
            .iter_mut()
            .find(|(id, _)| *id == cache_id)
        {
            entries.remove(key);
        }
    });
}

/// Forgets everything of cache `cache_id` in the current scope.
pub(crate) fn clear(cache_id: u64) {
    let _ = SCOPE.try_with(|map| {
        map.caches.borrow_mut().retain(|(id, _)| *id != cache_id);
    });
}
