//! Every command goes through [`Inner::call`]: circuit breaker, timeout, error mapping.

use std::future::Future;
use std::time::Duration;

use redis::RedisResult;

use crate::breaker::Transition;
use crate::conn::is_outage;
use crate::error::Error;
use crate::health::Counters;
use crate::tier::Inner;

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Redis was not reached: breaker open, timeout, connection refused or lost. Writes that
    /// fail this way are queued for replay.
    Outage(Error),
    /// Redis answered with an error (or an unexpected reply).
    Reply(Error),
}

impl Failure {
    pub(crate) fn into_error(self) -> Error {
        match self {
            Failure::Outage(e) | Failure::Reply(e) => e,
        }
    }
}

impl From<Failure> for cache_core::Error {
    fn from(failure: Failure) -> cache_core::Error {
        failure.into_error().into()
    }
}

impl Inner {
    /// Runs `command` unless the breaker is open, bounded by the command timeout.
    pub(crate) async fn call<T>(
        &self,
        command: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, Failure> {
        self.call_within(self.config.command_timeout, command).await
    }

    /// [`call`](Self::call) bounded by `limit` instead of the command timeout.
    pub(crate) async fn call_within<T>(
        &self,
        limit: Duration,
        command: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, Failure> {
        let Some(permit) = self.breaker.admit() else {
            Counters::bump(&self.counters.fail_fast);
            return Err(Failure::Outage(Error::BreakerOpen));
        };
        let (result, transition) = match tokio::time::timeout(limit, command).await {
            Ok(Ok(value)) => (Ok(value), permit.success()),
            Ok(Err(error)) if is_outage(&error) => (
                Err(Failure::Outage(self.secrets.command(&error))),
                permit.failure(),
            ),
            Ok(Err(error)) => (
                Err(Failure::Reply(self.secrets.command(&error))),
                permit.success(),
            ),
            Err(_) => {
                Counters::bump(&self.counters.timeouts);
                (
                    Err(Failure::Outage(Error::Timeout(limit))),
                    permit.failure(),
                )
            }
        };
        match transition {
            Transition::None => {}
            Transition::Opened => {
                Counters::bump(&self.counters.breaker_opened);
                // A connection that only times out (half-open TCP) must not be probed again.
                self.conn.reset();
                tracing::warn!(
                    cooldown = ?self.config.breaker_cooldown,
                    "Redis unreachable: circuit breaker open, calls fail fast"
                );
            }
            Transition::Recovered => {
                tracing::info!("Redis answers again: circuit breaker closed");
                self.recovery.wake();
            }
        }
        result
    }
}
