//! The command connection: one multiplexed connection to a single server (re-established on
//! demand after it broke), or the client library's Cluster connection (slot routing, `MOVED`
//! handling and reconnection are its own).
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

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Client, Cmd, FromRedisValue, RedisResult, ScriptInvocation};

use crate::config::RedisConfig;
use crate::error::{Error, Secrets};

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
                let urls: Vec<&str> = config.urls.iter().map(|u| u.expose()).collect();
                let client = redis::cluster::ClusterClient::builder(urls)
                    .connection_timeout(config.connect_timeout)
                    .response_timeout(config.command_timeout)
                    .retries(1)
                    .build()?;
                Ok(Conn::Cluster(client.get_async_connection().await?))
            } else {
                let single = Single {
                    client: Client::open(first.expose())?,
                    settings: AsyncConnectionConfig::new()
                        .set_connection_timeout(Some(config.connect_timeout))
                        .set_response_timeout(None),
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
    async fn handle(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        if let Some(current) = self.current.lock().clone() {
            return Ok(current);
        }
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
    fn check<T>(&self, generation: u64, result: &RedisResult<T>) {
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

/// Whether an error means Redis could not be reached (as opposed to an error reply).
pub(crate) fn is_outage(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_unrecoverable_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || error.is_cluster_error()
        || matches!(error.kind(), redis::ErrorKind::ClusterConnectionNotFound)
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
