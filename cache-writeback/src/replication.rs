//! Confirming claims (and, optionally, writes) on replicas before they count, so a failover
//! to a replica cannot hand the sink the same changes under two batch ids.
//!
//! A script and `WAIT n timeout` go out as one pipeline on the write-back's **own**
//! connection. `WAIT` covers the writes its client made before it, so it must follow the
//! script on the same connection: the tier's shared connection may be replaced between two
//! commands (a fresh client's `WAIT` returns at once, proving nothing), and a blocked `WAIT`
//! there would stall every cache read behind it.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use cache_redis::client::{Client, Connection};
use redis::{FromRedisValue, RedisError, RedisResult, ScriptInvocation};

use super::WriteBack;
use super::scripts::{Lua, REPLICAS};
use crate::{Error, millis};

/// The write-back's own connections, used in turn: a `WAIT` holds its connection until the
/// replicas answer, so one connection would serialise every replicated write.
pub(crate) struct Link {
    slots: Vec<Slot>,
    next: AtomicUsize,
}

/// One connection, opened on first use and dropped after an error.
#[derive(Default)]
struct Slot {
    current: parking_lot::Mutex<Option<Connection>>,
    connecting: tokio::sync::Mutex<()>,
}

/// `replicas_seen` value for "not asked yet".
pub(crate) const UNKNOWN: usize = usize::MAX;

impl Default for Link {
    fn default() -> Link {
        Link {
            slots: (0..LINKS).map(|_| Slot::default()).collect(),
            next: AtomicUsize::new(0),
        }
    }
}

/// Connections per write-back.
const LINKS: usize = 4;

impl Link {
    fn slot(&self) -> &Slot {
        &self.slots[self.next.fetch_add(1, Relaxed) % LINKS]
    }
}

impl Slot {
    /// The slot's connection, opened through `client` (replies bounded by the command
    /// timeout plus the `WAIT`) if there is none.
    async fn handle(&self, client: &Client, wait: Duration) -> RedisResult<Connection> {
        if let Some(handle) = self.current.lock().clone() {
            return Ok(handle);
        }
        let _turn = self.connecting.lock().await;
        if let Some(handle) = self.current.lock().clone() {
            return Ok(handle);
        }
        let handle = client
            .open_connection(client.config().command_timeout + wait)
            .await?;
        *self.current.lock() = Some(handle.clone());
        Ok(handle)
    }

    fn forget(&self) {
        *self.current.lock() = None;
    }
}

/// `SCRIPT LOAD` (on every node of a Cluster: a pipeline would go to a random one).
async fn load(connection: &Connection, source: &str) -> RedisResult<()> {
    let mut load = redis::cmd("SCRIPT");
    load.arg("LOAD").arg(source);
    load.exec_async(&mut connection.clone()).await
}

fn broken(error: &RedisError) -> bool {
    error.is_io_error() || error.is_unrecoverable_error() || error.is_connection_dropped()
}

impl WriteBack {
    /// How many replicas to `WAIT` for on shard `index`: the configured number, or the
    /// replicas its primary reported last (asked once if never seen).
    pub(crate) async fn replicas_to_wait(&self, index: usize) -> Result<usize, Error> {
        if let Some(n) = self.shared.config.replicas {
            return Ok(n);
        }
        let seen = self.shared.replicas_seen[index].load(Relaxed);
        if seen != UNKNOWN {
            return Ok(seen);
        }
        let mut invocation = REPLICAS.prepare_invoke();
        invocation.key(&self.shared.shards[index].state);
        let connected: usize = self.run(&invocation).await?;
        self.shared.replicas_seen[index].store(connected, Relaxed);
        Ok(connected)
    }

    /// Whether `acked` replicas suffice, given the `connected` (online) count a script reported
    /// for shard `index` (remembered for the next `WAIT`).
    pub(crate) fn replicated(&self, index: usize, connected: usize, acked: usize) -> bool {
        self.shared.replicas_seen[index].store(connected, Relaxed);
        let needed = self.shared.config.replicas.unwrap_or(connected);
        if acked >= needed {
            return true;
        }
        self.shared.metrics.failure("replication");
        tracing::warn!(
            write_back = %self.shared.config.name,
            shard = index,
            acked,
            needed,
            "write-back: replicas did not confirm in time"
        );
        false
    }

    /// Runs `invocation` of `lua`, then `WAIT replicas <replication_timeout>`, on the
    /// write-back's own connection; returns the script's reply and the replicas that
    /// confirmed it.
    pub(crate) async fn run_replicated<T: FromRedisValue>(
        &self,
        lua: &Lua,
        invocation: &ScriptInvocation<'_>,
        replicas: usize,
    ) -> Result<(T, usize), Error> {
        let redis = &self.shared.redis;
        let link = self.shared.link.slot();
        let wait = self.shared.config.replication_timeout;
        let mut pipe = redis::pipe();
        pipe.invoke_script(invocation)
            .cmd("WAIT")
            .arg(replicas)
            .arg(millis(wait).max(1));
        let attempt = async {
            let handle = link.handle(redis, wait).await?;
            let mut result = pipe.query_async::<(T, usize)>(&mut handle.clone()).await;
            if let Err(error) = &result
                && error.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)
            {
                // The script did not run: load it and send the pipeline again.
                load(&handle, &lua.source).await?;
                result = pipe.query_async(&mut handle.clone()).await;
            }
            if result.as_ref().is_err_and(broken) {
                link.forget();
            }
            result
        };
        let limit = redis
            .config()
            .command_timeout
            .max(super::writes::WRITE_TIMEOUT_FLOOR)
            + wait;
        let result = redis.guard(limit, attempt).await;
        if result.is_err() {
            // A timed-out `WAIT` may still hold the connection: start afresh.
            link.forget();
        }
        result
    }
}
