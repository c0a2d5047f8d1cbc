//! Authoritative writes whose outcome is unknown are chased by a delete on their own
//! connection.
//!
//! A command that timed out was still sent: Redis may run it whenever it gets to it — after a
//! `SIGSTOP`ped or overloaded server resumes, say. A late `SET` of an old value is the one
//! late command that does harm: meanwhile its caller gave up and queued a delete, the next
//! writer of the key (another node, with a connection of its own) wrote a newer value, and
//! Redis runs each connection's buffered commands in the order the connections became
//! readable, not in the order they were sent — so the old value may land on top of the newer
//! one, where every node without a local copy reads it until the queued delete is replayed
//! (after the breaker closes, much later). Everything else is harmless late: fills and
//! releases are fenced, deletes and announcements only remove.
//!
//! So when a write's outcome is unknown, an `UNLINK` of its key follows it at once on the
//! *same* connection (not the tier's current one, which the breaker may just have replaced),
//! outside the breaker. Both wait in that connection's buffer, and Redis runs what it reads
//! from one connection back to back: the late write is deleted before a command that another
//! client sent after the resume can read it. A delete is always safe; the queued one follows.

use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, RedisResult, ScriptInvocation};

use super::conn::Conn;
use super::{Client, Failure};
use crate::error::Error;

/// What an authoritative write of a key sends.
pub(crate) enum KeyWrite<'a> {
    Cmd(&'a Cmd),
    Script(&'a ScriptInvocation<'a>),
}

/// The connection a write went out on, held for the delete that may chase it.
#[derive(Clone)]
enum Pinned {
    /// The shared single-node connection and its generation.
    Single(u64, MultiplexedConnection),
    /// The Cluster connection: the client library keeps one connection per node, so a key's
    /// commands reach its node in order.
    Cluster(ClusterConnection),
}

impl Pinned {
    async fn of(conn: &Conn) -> RedisResult<Pinned> {
        Ok(match conn {
            Conn::Single(single) => {
                let (generation, connection) = single.handle().await?;
                Pinned::Single(generation, connection)
            }
            Conn::Cluster(cluster) => Pinned::Cluster(cluster.clone()),
        })
    }

    async fn send<T: FromRedisValue>(
        &mut self,
        conn: &Conn,
        write: &KeyWrite<'_>,
    ) -> RedisResult<T> {
        let result = match (&mut *self, write) {
            (Pinned::Single(_, c), KeyWrite::Cmd(cmd)) => cmd.query_async(c).await,
            (Pinned::Single(_, c), KeyWrite::Script(script)) => script.invoke_async(c).await,
            (Pinned::Cluster(c), KeyWrite::Cmd(cmd)) => cmd.query_async(c).await,
            (Pinned::Cluster(c), KeyWrite::Script(script)) => script.invoke_async(c).await,
        };
        if let (Pinned::Single(generation, _), Conn::Single(single)) = (&*self, conn) {
            single.check(*generation, &result);
        }
        result
    }

    async fn unlink(&mut self, key: &str) -> RedisResult<i64> {
        let mut cmd = redis::cmd("UNLINK");
        cmd.arg(key);
        match self {
            Pinned::Single(_, c) => cmd.query_async(c).await,
            Pinned::Cluster(c) => cmd.query_async(c).await,
        }
    }
}

impl Client {
    /// An authoritative write of `key` (a `SET` of it, or a script that sets it), through
    /// [`call`](Client::call) like every command; if it was sent and no answer came, an
    /// `UNLINK key` chases it on the same connection (see the [module](self) docs).
    pub(crate) async fn write_key<T: FromRedisValue>(
        &self,
        key: &str,
        write: KeyWrite<'_>,
    ) -> Result<T, Failure> {
        let sent_on = parking_lot::Mutex::new(None);
        let command = async {
            let mut pinned = Pinned::of(&self.conn).await?;
            *sent_on.lock() = Some(pinned.clone());
            pinned.send(&self.conn, &write).await
        };
        let result = self.call(command).await;
        // A write the breaker refused was never sent; an error reply was an answer.
        if let Err(Failure::Outage(error)) = &result
            && !matches!(error, Error::BreakerOpen)
            && let Some(pinned) = sent_on.lock().take()
        {
            self.chase(pinned, key);
        }
        result
    }

    /// Sends `UNLINK key` on `pinned` in the background, bounded by the command timeout; its
    /// outcome does not matter (the recovery queue holds a delete of the key as well).
    fn chase(&self, mut pinned: Pinned, key: &str) {
        let (key, limit) = (key.to_string(), self.config.command_timeout);
        tracing::debug!("a write's outcome is unknown: chasing it with a delete of its key");
        tokio::spawn(async move {
            let _ = tokio::time::timeout(limit, pinned.unlink(&key)).await;
        });
    }
}
