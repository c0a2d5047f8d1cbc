//! A tower layer that wraps every request in a [`request_scope`](crate::request_scope).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::futures::TaskLocalFuture;
use tower_layer::Layer;
use tower_service::Service;

use super::request::{RequestMap, scoped};

/// Gives each request its own request tier.
///
/// ```
/// use tower_layer::Layer;
/// // Any tower service works; `()` stands in for an axum router here.
/// let _service = cache_core::RequestScopeLayer::new().layer(());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestScopeLayer;

impl RequestScopeLayer {
    /// The layer.
    pub fn new() -> RequestScopeLayer {
        RequestScopeLayer
    }
}

impl<S> Layer<S> for RequestScopeLayer {
    type Service = RequestScopeService<S>;

    fn layer(&self, inner: S) -> RequestScopeService<S> {
        RequestScopeService { inner }
    }
}

/// The service produced by [`RequestScopeLayer`].
#[derive(Debug, Clone)]
pub struct RequestScopeService<S> {
    inner: S,
}

impl<S, Req> Service<Req> for RequestScopeService<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = RequestScopeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        RequestScopeFuture {
            inner: scoped(self.inner.call(req)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`RequestScopeService`]: the inner future run inside a scope.
    pub struct RequestScopeFuture<F> {
        #[pin]
        inner: TaskLocalFuture<RequestMap, F>,
    }
}

impl<F: Future> Future for RequestScopeFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}
