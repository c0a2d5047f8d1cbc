//! The bottom layer: [`Client`] owns the command connection, the circuit breaker, the secrets
//! to scrub, the timeouts and the counters of what its calls met. Every command of every
//! layer above (backplane, recovery, leases, tags, flags, and the `cache-writeback` crate)
//! goes through it: breaker, timeout, then the classification of the error.
//!
//! An error reply is not one thing, so each is sorted: a server that cannot serve right now
//! (`LOADING`, `BUSY`, `READONLY`, `MASTERDOWN`, …) counts as an outage
//! ([`Error::Unavailable`], a breaker failure; the tier queues and
//! replays a write or an invalidation it refused rather than lose it); a permission error
//! (`NOPERM`, `WRONGPASS`) is [`Error::Permission`], logged loudly;
//! other error replies are [`Error::Command`], returned as they are.
//!
//! An authoritative write that timed out may still run later; `chase.rs` follows it with a
//! delete of its key on the same connection, so it cannot land on top of a newer write.
//!
//! Nothing here knows the layers above: the one signal going up, "Redis answers again", is a
//! `Notify` the recovery layer waits on.

mod breaker;
mod chase;
mod config;
mod conn;
mod doctor;
mod judge;
mod probe;
mod reply;
mod secrets;
mod url;

pub(crate) use self::chase::KeyWrite;
pub use self::config::RedisConfig;
pub use self::conn::Connection;
pub(crate) use self::conn::backoff;
pub use self::url::RedisUrl;

use std::future::Future;
use std::time::Duration;

use redis::{Cmd, FromRedisValue, RedisResult, ScriptInvocation};
use tokio::sync::Notify;

use self::breaker::{Breaker, Transition};
use self::conn::Conn;
use self::secrets::Secrets;
use crate::error::Error;
use crate::health::{BreakerState, RedisStats, layer_counters};

/// The connection to Redis (single node or Cluster) with its circuit breaker, timeouts and
/// error classification: what every part of the Redis tier, and the `cache-writeback` crate,
/// sends its commands through. Get it from
/// [`RedisTier::client`](crate::RedisTier::client); it lives as long as the tier.
///
/// ```no_run
/// # async fn run() -> Result<(), cache_redis::Error> {
/// use std::time::Duration;
/// let tier = cache_redis::RedisTier::connect("redis://127.0.0.1:6379").await?;
/// let script = redis::Script::new("return redis.call('INCR', KEYS[1])");
/// let mut invocation = script.prepare_invoke();
/// invocation.key("visits");
/// let visits: i64 = tier.client().run_script(&invocation, Duration::from_secs(1)).await?;
/// assert!(visits >= 1);
/// # Ok(()) }
/// ```
pub struct Client {
    config: RedisConfig,
    conn: Conn,
    breaker: Breaker,
    secrets: Secrets,
    counters: ClientCounters,
    /// Notified when the breaker closes again: the recovery layer replays then.
    recovered: Notify,
    /// The start-up finding about the server's eviction policy.
    policy_warning: Option<String>,
}

layer_counters! {
    /// What the calls met.
    ClientCounters {
        fail_fast,
        timeouts,
        breaker_opened,
        unavailable_replies,
        readonly_reconnects,
        permission_errors,
        error_replies,
    }
}

/// Milliseconds for `PX`/`PEXPIRE`, at least 1.
pub(crate) fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

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

impl From<Failure> for Error {
    fn from(failure: Failure) -> Error {
        failure.into_error()
    }
}

impl Client {
    /// Connects, checks the user's permissions (else [`Error::Permission`]) and the server's
    /// eviction policy.
    pub(crate) async fn connect(config: RedisConfig) -> Result<Client, Error> {
        #[cfg(feature = "tls")]
        if config.urls.iter().any(RedisUrl::is_tls) {
            // Keep an application's own choice if it installed a provider first.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let secrets = Secrets::new(config.urls.iter().flat_map(RedisUrl::secrets));
        let conn = Conn::open(&config, &secrets).await?;
        probe::permissions(&conn, &config, &secrets).await?;
        let limit = config.command_timeout.max(config.connect_timeout);
        let policy_warning = doctor::check(&conn, limit).await;
        Ok(Client {
            breaker: Breaker::new(config.breaker_failures, config.breaker_cooldown),
            counters: ClientCounters::default(),
            recovered: Notify::new(),
            policy_warning,
            secrets,
            conn,
            config,
        })
    }

    /// The settings the tier runs with (timeouts, URLs shown redacted, …).
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    /// Runs a Lua script (`EVALSHA`, loading it on `NOSCRIPT`) on the shared connection,
    /// through the circuit breaker and bounded by `limit`. Errors are classified and scrubbed
    /// of the password like every other call's: [`Error::BreakerOpen`], [`Error::Timeout`],
    /// [`Error::Unavailable`], [`Error::Permission`] or [`Error::Command`].
    pub async fn run_script<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
        limit: Duration,
    ) -> Result<T, Error> {
        Ok(self
            .call_within(limit, self.conn.invoke(invocation))
            .await?)
    }

    /// Runs `command`, a future of the caller's own (e.g. a pipeline on a [`Connection`] from
    /// [`open_connection`](Self::open_connection)), through the circuit breaker, bounded by
    /// `limit`, its error classified and scrubbed as in [`run_script`](Self::run_script).
    /// An outage it meets opens the breaker for every user of the tier, as it should: it is
    /// the same Redis.
    pub async fn guard<T>(
        &self,
        limit: Duration,
        command: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, Error> {
        Ok(self.call_within(limit, command).await?)
    }

    /// A connection of its own to the same server (or Cluster), not shared with cache traffic:
    /// for commands that hold a connection, such as `WAIT`. Replies wait at most
    /// `response_timeout` (single node: bounded by the caller instead). The error is the
    /// client library's, not yet scrubbed: open it inside [`guard`](Self::guard).
    pub async fn open_connection(&self, response_timeout: Duration) -> RedisResult<Connection> {
        Connection::open(&self.config, response_timeout).await
    }

    /// Runs `command` unless the breaker is open, bounded by the command timeout.
    pub(crate) async fn call<T>(
        &self,
        command: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, Failure> {
        self.call_within(self.config.command_timeout, command).await
    }

    /// One command on the shared connection, through [`call`](Self::call).
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, Failure> {
        self.call(self.conn.query(cmd)).await
    }

    /// One script on the shared connection, through [`call`](Self::call).
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, Failure> {
        self.call(self.conn.invoke(invocation)).await
    }

    /// `UNLINK key`.
    pub(crate) async fn unlink(&self, key: &str) -> Result<(), Failure> {
        let mut cmd = redis::cmd("UNLINK");
        cmd.arg(key);
        self.query::<i64>(&cmd).await.map(drop)
    }

    /// `SET key value PX ttl`, an authoritative write (see [`write_key`](Client::write_key)).
    pub(crate) async fn set_px(&self, key: &str, value: &[u8], ttl: u64) -> Result<(), Failure> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(value).arg("PX").arg(ttl);
        self.write_key::<()>(key, KeyWrite::Cmd(&cmd)).await
    }

    /// `PUBLISH channel frame`.
    pub(crate) async fn publish(&self, channel: &str, frame: &str) -> Result<(), Failure> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(channel).arg(frame);
        self.query::<i64>(&cmd).await.map(drop)
    }

    /// [`call`](Self::call) bounded by `limit` instead of the command timeout.
    pub(crate) async fn call_within<T>(
        &self,
        limit: Duration,
        command: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, Failure> {
        let Some(permit) = self.breaker.admit() else {
            ClientCounters::bump(&self.counters.fail_fast);
            return Err(Failure::Outage(Error::BreakerOpen));
        };
        let (result, transition) = match tokio::time::timeout(limit, command).await {
            Ok(Ok(value)) => (Ok(value), permit.success()),
            Ok(Err(error)) => {
                let failure = judge::judge(&error, &self.counters, &self.secrets, &self.conn);
                let transition = match failure {
                    Failure::Outage(_) => permit.failure(),
                    Failure::Reply(_) => permit.success(),
                };
                (Err(failure), transition)
            }
            Err(_) => {
                ClientCounters::bump(&self.counters.timeouts);
                let timeout = Failure::Outage(Error::Timeout(limit));
                (Err(timeout), permit.failure())
            }
        };
        match transition {
            Transition::None => {}
            Transition::Opened => {
                ClientCounters::bump(&self.counters.breaker_opened);
                // A connection that only times out (half-open TCP) must not be probed again.
                self.conn.reset();
                tracing::warn!(
                    cooldown = ?self.config.breaker_cooldown,
                    "Redis unreachable or unable to serve: circuit breaker open, calls fail fast"
                );
            }
            Transition::Recovered => {
                tracing::info!("Redis answers again: circuit breaker closed");
                self.recovered.notify_one();
            }
        }
        result
    }

    /// Whether the tier talks to a Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        self.conn.is_cluster()
    }

    /// Notified each time the breaker closes after failures.
    pub(crate) fn recovered(&self) -> &Notify {
        &self.recovered
    }

    /// `message` with every known password replaced by `***`.
    pub(crate) fn scrub(&self, message: impl Into<String>) -> String {
        self.secrets.scrub(message)
    }

    /// A fresh pub/sub connection to seed node `seed` (modulo their number).
    pub(crate) async fn pubsub(&self, seed: usize) -> RedisResult<redis::aio::PubSub> {
        let url = &self.config.urls[seed % self.config.urls.len()];
        redis::Client::open(url.expose())?.get_async_pubsub().await
    }

    pub(crate) fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    pub(crate) fn policy_warning(&self) -> Option<String> {
        self.policy_warning.clone()
    }

    /// Fills in the counters this layer keeps.
    pub(crate) fn stats(&self, stats: &mut RedisStats) {
        self.counters.fill(stats);
    }
}
