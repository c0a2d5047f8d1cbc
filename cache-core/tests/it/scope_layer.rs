//! The tower layer gives every request its own request tier.
#![cfg(feature = "tower")]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use cache_core::{Cache, CacheKey, Options, RequestScopeLayer, Tiers, in_request_scope};
use tower_layer::Layer;
use tower_service::Service;

/// A handler that asks for the same request-only value three times and reports what it saw.
#[derive(Clone)]
struct Handler {
    cache: Cache,
}

impl Service<u32> for Handler {
    type Response = (bool, Vec<u32>);
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, user: u32) -> Self::Future {
        let cache = self.cache.clone();
        Box::pin(async move {
            let opts = Options::new().tiers(Tiers::REQUEST);
            let key = CacheKey::new("current_user", &());
            let mut seen = Vec::new();
            for attempt in 0..3 {
                let v: Result<u32, Infallible> = cache
                    .get_or_load(&key, &opts, || async move { Ok(user * 100 + attempt) })
                    .await;
                seen.push(v.unwrap_or_default());
            }
            Ok((in_request_scope(), seen))
        })
    }
}

#[tokio::test]
async fn each_request_gets_a_fresh_request_tier() {
    let cache = Cache::builder().build();
    let mut service = RequestScopeLayer::new().layer(Handler {
        cache: cache.clone(),
    });
    let first = service.call(1).await.unwrap();
    let second = service.call(2).await.unwrap();
    assert_eq!(first, (true, vec![100, 100, 100]));
    assert_eq!(second, (true, vec![200, 200, 200]));
    assert_eq!(cache.stats().request_hits, 4);
    assert!(!in_request_scope());
}
