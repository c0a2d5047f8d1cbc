//! Every command goes through [`Inner::call`]: circuit breaker, timeout, error mapping.
//!
//! Errors are sorted by [`reply::Class`](crate::reply::Class): a server that cannot serve right
//! now (`LOADING`, `BUSY`, `READONLY`, …) counts as an outage, so a write or an invalidation it
//! refused is queued and replayed rather than silently lost; a permission error is logged
//! loudly; other error replies are returned as they are.

use std::future::Future;
use std::time::Duration;

use redis::RedisResult;

use crate::breaker::Transition;
use crate::error::Error;
use crate::health::Counters;
use crate::reply::{self, Class, Log};
use crate::tier::Inner;

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Redis was not reached (breaker open, timeout, connection refused or lost) or answered
    /// that it cannot serve now (`LOADING`, `READONLY`, …, see [`reply`]). Writes that fail
    /// this way are queued for replay.
    Outage(Error),
    /// Redis answered with an error that a retry would not fix (or an unexpected reply).
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
            Ok(Err(error)) => {
                let failure = self.judge(&error);
                let transition = match failure {
                    Failure::Outage(_) => permit.failure(),
                    Failure::Reply(_) => permit.success(),
                };
                (Err(failure), transition)
            }
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
                    "Redis unreachable or unable to serve: circuit breaker open, calls fail fast"
                );
            }
            Transition::Recovered => {
                tracing::info!("Redis answers again: circuit breaker closed");
                self.recovery.wake();
            }
        }
        result
    }

    /// The [`Failure`] for a client-library error, counted and, where it calls for it, logged.
    /// Its variant decides both queueing ([`Failure::Outage`]) and the breaker outcome.
    fn judge(&self, error: &redis::RedisError) -> Failure {
        let counters = &self.counters;
        match Class::of(error) {
            Class::Unreachable => Failure::Outage(self.secrets.command(error)),
            class @ (Class::Unavailable | Class::ReadOnly) => {
                Counters::bump(&counters.unavailable_replies);
                let message = self.secrets.reply(error);
                // The connection to a demoted primary is dropped: the next command dials again,
                // and the endpoint may lead to the new primary by then.
                if class == Class::ReadOnly && self.conn.drop_after_readonly() {
                    Counters::bump(&counters.readonly_reconnects);
                }
                if reply::due(Log::Unavailable) {
                    tracing::warn!(
                        reply = %message,
                        "Redis cannot serve commands right now; writes and invalidations are \
                         queued and replayed once it can"
                    );
                }
                Failure::Outage(Error::Unavailable(message))
            }
            class @ (Class::Denied | Class::Unauthenticated) => {
                Counters::bump(&counters.permission_errors);
                let message = self.secrets.reply(error);
                if reply::due(Log::Permission) {
                    tracing::error!(
                        reply = %message,
                        total = counters.permission_errors.get(),
                        "Redis refused a command for lack of permission: fix the user's ACL or \
                         credentials; until then the refused writes and invalidations do not \
                         reach Redis"
                    );
                }
                let error = Error::Permission(message);
                // Refused credentials stop every command, like an outage; a refused command
                // would fail again on replay, and Redis is plainly reachable.
                if class.is_outage() {
                    Failure::Outage(error)
                } else {
                    Failure::Reply(error)
                }
            }
            Class::Reply => {
                Counters::bump(&counters.error_replies);
                Failure::Reply(self.secrets.command(error))
            }
        }
    }
}
