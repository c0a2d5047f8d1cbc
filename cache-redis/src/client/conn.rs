//! The command connection: one multiplexed connection to a single server (re-established on
//! demand after it broke), or the client library's Cluster connection (slot routing, `MOVED`
//! handling and reconnection are its own); and [`Connection`], a dedicated one for callers
//! that must hold a connection (`WAIT`).
//!
//! Neither retries with backoff on its own schedule: while Redis is down each command fails
//! fast (or within the caller's timeout), and the circuit breaker decides when to try again.
//!
//! After a failover the single-node connection may still point at the demoted primary, which
//! answers writes with `READONLY`; [`Conn::drop_after_readonly`] lets the next command connect
//! afresh (a DNS name or proxy in front may lead it to the new primary). The Cluster client
//! handles `READONLY` itself: it refreshes its slot map and retries on the slot's new owner,
//! once (`retries(1)`); only if that fails too does the error reach the caller, which then
//! treats it like any other `READONLY` (queued, a breaker failure) without a reconnect of its
//! own.
//!
//! # Why not redis-rs's `ConnectionManager`
//!
//! `redis::aio::ConnectionManager` (1.8, feature `connection-manager`) also keeps one
//! multiplexed connection and replaces it when it breaks. It was evaluated as a replacement
//! for [`Single`] and rejected, for three behaviours it cannot give (the first is what the
//! `READONLY` tests check):
//!
//! * **No reconnect on demand.** It replaces its connection only after an I/O or
//!   "unrecoverable" error, or a disconnect push; its `reconnect` is private. A `READONLY`
//!   reply is a server error on a healthy socket, so after a failover it would keep its
//!   connection to the demoted primary, and a DNS name or proxy that now leads to the new
//!   primary would never be dialled again (`error_replies`'
//!   `an_invalidation_refused_with_readonly_is_replayed_after_the_failover` counts the
//!   `READONLY` reconnect; the spacing test below checks they do not storm). Nor could the
//!   breaker drop a connection that only times out (half-open TCP) when it opens.
//! * **A failed reconnect is remembered.** The connection is a shared future; if a reconnect
//!   fails with anything but an I/O error (a refused `AUTH`/`HELLO` after the password
//!   changed, a TLS error), every later command gets that same error and no new attempt is
//!   made. Here a failed dial is not stored: the next command (the breaker's probe) dials
//!   again, so the tier recovers once the credentials work again.
//! * **Its own retry schedule.** Each reconnect retries with exponential backoff and jitter
//!   in a background task, outside the command timeout and the breaker, which are what decide
//!   here when Redis is asked again (a command never waits longer than `command_timeout`).
//!
//! The Cluster path already uses the client library's own reconnecting connection, and
//! nothing of `ConnectionManager` applies to it (it is single-node only). Permission probe,
//! redaction and timeouts would have been unaffected either way: they sit above this file.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::aio::ConnectionLike;
use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, FromRedisValue, Pipeline, RedisFuture};
use redis::{RedisResult, ScriptInvocation, Value};

use super::config::RedisConfig;
use super::secrets::Secrets;
use crate::error::Error;

pub(crate) enum Conn {
    Single(Box<Single>),
    Cluster(ClusterConnection),
}

pub(crate) struct Single {
    client: Client,
    settings: AsyncConnectionConfig,
    current: Mutex<Option<(u64, MultiplexedConnection)>>,
    connecting: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    /// When a connection was last dropped because of `READONLY`.
    readonly_drop: Mutex<Option<Instant>>,
}

/// Least time between two connections dropped for `READONLY`. While the endpoint stays a
/// replica every write answers `READONLY`; reconnecting for each would be a reconnect storm.
const READONLY_REDIAL: Duration = Duration::from_secs(1);

impl Conn {
    /// Opens the command connection; fails if the server (or no seed node) answers.
    pub(crate) async fn open(config: &RedisConfig, secrets: &Secrets) -> Result<Conn, Error> {
        let first = &config.urls[0];
        let failed = |e: &redis::RedisError| Error::Connect {
            url: first.redacted(),
            message: secrets.scrub(e.to_string()),
        };
        let connecting = async {
            if config.cluster {
                Ok(Conn::Cluster(
                    cluster(config, config.command_timeout).await?,
                ))
            } else {
                let single = Single {
                    client: Client::open(first.expose())?,
                    settings: single_settings(config),
                    current: Mutex::new(None),
                    connecting: tokio::sync::Mutex::new(()),
                    generation: AtomicU64::new(0),
                    readonly_drop: Mutex::new(None),
                };
                single.handle().await?;
                Ok(Conn::Single(Box::new(single)))
            }
        };
        match tokio::time::timeout(config.connect_timeout, connecting).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(failed(&e)),
            Err(_) => Err(Error::Connect {
                url: first.redacted(),
                message: format!("no answer within {:?}", config.connect_timeout),
            }),
        }
    }

    /// Runs one command.
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Conn::Single(single) => {
                let (generation, mut conn) = single.handle().await?;
                let result = cmd.query_async(&mut conn).await;
                single.check(generation, &result);
                result
            }
            Conn::Cluster(cluster) => cmd.query_async(&mut cluster.clone()).await,
        }
    }

    /// Runs a Lua script (`EVALSHA`, loading it on `NOSCRIPT`).
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> RedisResult<T> {
        match self {
            Conn::Single(single) => {
                let (generation, mut conn) = single.handle().await?;
                let result = invocation.invoke_async(&mut conn).await;
                single.check(generation, &result);
                result
            }
            Conn::Cluster(cluster) => invocation.invoke_async(&mut cluster.clone()).await,
        }
    }

    /// Drops the single-node connection so the next command connects afresh.
    pub(crate) fn reset(&self) {
        if let Conn::Single(single) = self {
            *single.current.lock() = None;
        }
    }

    /// Drops the single-node connection after a `READONLY` reply, at most once per
    /// [`READONLY_REDIAL`]; `true` if it did. A Cluster connection is left alone (see the
    /// module docs).
    pub(crate) fn drop_after_readonly(&self) -> bool {
        let Conn::Single(single) = self else {
            return false;
        };
        let mut last = single.readonly_drop.lock();
        if last.is_some_and(|at| at.elapsed() < READONLY_REDIAL) {
            return false;
        }
        *last = Some(Instant::now());
        *single.current.lock() = None;
        true
    }

    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Conn::Cluster(_))
    }
}

impl Single {
    /// The current connection, or a new one if there is none.
    pub(super) async fn handle(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        if let Some(current) = self.current.lock().clone() {
            return Ok(current);
        }
        // Boxed: the dial's future is kilobytes, and inlined it made every command's future
        // that large, copied on each move (a tenth of an L2 hit's instructions).
        Box::pin(self.connect()).await
    }

    /// Dials a new connection unless another caller just did.
    async fn connect(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        let _turn = self.connecting.lock().await;
        if let Some(current) = self.current.lock().clone() {
            return Ok(current);
        }
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&self.settings)
            .await?;
        let generation = self.generation.fetch_add(1, Relaxed) + 1;
        *self.current.lock() = Some((generation, conn.clone()));
        Ok((generation, conn))
    }

    /// Forgets the connection `generation` if `result` shows it is broken.
    pub(super) fn check<T>(&self, generation: u64, result: &RedisResult<T>) {
        if let Err(error) = result
            && (error.is_unrecoverable_error() || error.is_io_error())
        {
            let mut current = self.current.lock();
            if current.as_ref().is_some_and(|(g, _)| *g == generation) {
                *current = None;
            }
        }
    }
}

/// The Cluster connection: the client library routes by slot, follows `MOVED`, and retries a
/// command once on the slot's new owner after a `READONLY` (see the module docs).
async fn cluster(
    config: &RedisConfig,
    response_timeout: Duration,
) -> RedisResult<ClusterConnection> {
    let urls: Vec<&str> = config.urls.iter().map(|u| u.expose()).collect();
    redis::cluster::ClusterClient::builder(urls)
        .connection_timeout(config.connect_timeout)
        .response_timeout(response_timeout)
        .retries(1)
        .build()?
        .get_async_connection()
        .await
}

/// A single-node connection's settings: no response timeout of its own, every caller bounds
/// its command.
fn single_settings(config: &RedisConfig) -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(None)
}

/// A connection of its own to the tier's server (or Cluster), from
/// [`Client::open_connection`](super::Client::open_connection). Cheap to clone (clones share
/// it); use it as any [`ConnectionLike`] (`cmd.query_async(&mut connection)`). It does not
/// reconnect: drop it after an I/O error and open another.
#[derive(Clone)]
pub struct Connection(Link);

#[derive(Clone)]
enum Link {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl Connection {
    pub(super) async fn open(
        config: &RedisConfig,
        response_timeout: Duration,
    ) -> RedisResult<Connection> {
        Ok(Connection(if config.cluster {
            Link::Cluster(cluster(config, response_timeout).await?)
        } else {
            let client = Client::open(config.urls[0].expose())?;
            let settings = single_settings(config);
            Link::Single(
                client
                    .get_multiplexed_async_connection_with_config(&settings)
                    .await?,
            )
        }))
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.0 {
            Link::Single(conn) => conn.req_packed_command(cmd),
            Link::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.0 {
            Link::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Link::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.0 {
            Link::Single(conn) => conn.get_db(),
            Link::Cluster(conn) => conn.get_db(),
        }
    }
}

/// A pause used between reconnection attempts of background tasks.
pub(crate) fn backoff(previous: Duration) -> Duration {
    (previous * 2).clamp(Duration::from_millis(50), Duration::from_millis(500))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A single-node connection that has not dialled yet (nothing listens on port 1).
    fn idle() -> Conn {
        Conn::Single(Box::new(Single {
            client: Client::open("redis://127.0.0.1:1").unwrap(),
            settings: AsyncConnectionConfig::new(),
            current: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            readonly_drop: Mutex::new(None),
        }))
    }

    #[test]
    fn readonly_drops_are_spaced_to_avoid_a_reconnect_storm() {
        let conn = idle();
        assert!(conn.drop_after_readonly(), "the first READONLY reconnects");
        assert!(
            !conn.drop_after_readonly(),
            "the next ones within a second do not"
        );
    }
}
