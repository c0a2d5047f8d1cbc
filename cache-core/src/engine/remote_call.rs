//! One call to the remote tier in the air, as a small hand-written future: it times the call
//! and counts a failure when the call ends. The tier's futures are already boxed (the trait is
//! object-safe), so this wrapper adds a few words, not another layer of `async fn` state: on
//! a Redis hit every byte of the read's future is moved with it, and nested `async fn`
//! wrappers each kept their own copy of the call.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use tracing::Instrument;

use super::Inner;
use crate::metrics::{Event, Recorder};
use crate::stats::TierName;
use crate::{Error, Result};

/// A remote tier's boxed call.
pub(crate) type TierCall<'a, R> = Pin<Box<dyn Future<Output = Result<R>> + Send + 'a>>;

/// A tier call that records its duration (when a meter times remote calls) and counts and
/// logs its failure.
pub(crate) struct Counted<'a, R> {
    call: TierCall<'a, R>,
    inner: &'a Inner,
    operation: &'static str,
    started: Option<Instant>,
}

impl<'a, R> Counted<'a, R> {
    pub(crate) fn new(inner: &'a Inner, operation: &'static str, call: TierCall<'a, R>) -> Self
    where
        R: 'a,
    {
        // A span only when a subscriber wants debug spans: making one, and entering and
        // leaving it on every poll, was a visible share of a Redis hit, for nobody (the `log`
        // feature of `tracing`, which many applications enable indirectly, makes even a
        // disabled span ask `log` at each step).
        let call = if tracing::enabled!(tracing::Level::DEBUG) {
            let span = tracing::debug_span!("cache.remote", operation);
            Box::pin(call.instrument(span))
        } else {
            call
        };
        Counted {
            call,
            inner,
            operation,
            started: inner.recorder.times_remote_calls().then(Instant::now),
        }
    }
}

impl<R> Future for Counted<'_, R> {
    type Output = Result<R>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<R>> {
        let this = &mut *self;
        let result = ready!(this.call.as_mut().poll(cx));
        let recorder = &this.inner.recorder;
        if let Some(started) = this.started {
            recorder.record(Event::RemoteCall(this.operation, started.elapsed()));
        }
        if let Err(error) = &result {
            count_failure(recorder, TierName::Remote, error, this.operation);
        }
        Poll::Ready(result)
    }
}

/// Counts a tier or codec failure (each is also a miss) and logs it.
pub(crate) fn count_failure(
    recorder: &Recorder,
    tier: TierName,
    error: &Error,
    operation: &'static str,
) {
    recorder.record(Event::Failure(tier, error.kind()));
    if matches!(error, Error::RemoteUnavailable) {
        // Expected on every call during an outage: the breaker already logged the outage.
        tracing::debug!(operation, "remote tier skipped while its breaker is open");
    } else {
        tracing::warn!(%error, operation, kind = error.kind(), "cache tier error counted as a miss");
    }
}
