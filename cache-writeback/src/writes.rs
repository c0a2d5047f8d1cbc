//! Writing changes and reading what is pending.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use redis::{FromRedisValue, ScriptInvocation};

use super::WriteBack;
use super::batch::Changes;
use super::keys::random_id;
use super::scripts::{PENDING, WRITE};
use crate::Error;
use crate::millis;

/// The shortest wait for a write-back command. A read that times out is just a miss, but a
/// write that times out is ambiguous (Redis may have applied it) and the caller can only
/// report a failure: under a burst, commands queue on the multiplexed connection, so writes
/// wait longer than the tier's read timeout before giving up.
pub(crate) const WRITE_TIMEOUT_FLOOR: Duration = Duration::from_secs(2);

impl WriteBack {
    /// Adds `delta` to `field` of `entity` (`HINCRBY` and mark dirty, one script). Returns the
    /// entity's pending delta for `field` not yet claimed by a flusher.
    ///
    /// `Ok` means Redis holds the change (and, with `replicated_writes`, the required
    /// replicas do); it reaches the sink with a later batch unless Redis loses it first (see
    /// [`generation`](WriteBack::generation) and "Failover" in the crate documentation).
    /// On `Err(Error::Timeout(_))` the change may or may not have been applied or kept
    /// (with `replicated_writes`: also when the replicas did not confirm it in time); other
    /// errors (breaker open, connection refused, error reply) mean it was not.
    ///
    /// ```no_run
    /// # async fn run(likes: cache_writeback::WriteBack) -> Result<(), cache_writeback::Error> {
    /// likes.incr("post:42", "likes", 1).await?;
    /// likes.incr("post:42", "likes", -1).await?; // an unlike
    /// # Ok(()) }
    /// ```
    pub async fn incr(&self, entity: &str, field: &str, delta: i64) -> Result<i64, Error> {
        let reply = self.write(entity, "c", field, &delta.to_string()).await?;
        reply
            .parse()
            .map_err(|_| Error::Command(format!("unexpected reply {reply:?}")))
    }

    /// Sets `field` of `entity` to `value`, last writer wins. Returns the version (server
    /// time in µs, strictly increasing per shard) the sink will see with it.
    ///
    /// ```no_run
    /// # async fn run(posts: cache_writeback::WriteBack) -> Result<(), cache_writeback::Error> {
    /// let v1 = posts.set_field("post:42", "title", "Hello").await?;
    /// let v2 = posts.set_field("post:42", "title", "Hello, world").await?;
    /// assert!(v2 > v1);
    /// # Ok(()) }
    /// ```
    pub async fn set_field(&self, entity: &str, field: &str, value: &str) -> Result<u64, Error> {
        let reply = self.write(entity, "s", field, value).await?;
        reply
            .parse()
            .map_err(|_| Error::Command(format!("unexpected reply {reply:?}")))
    }

    async fn write(
        &self,
        entity: &str,
        mode: &str,
        field: &str,
        arg: &str,
    ) -> Result<String, Error> {
        let (index, shard) = self.shard(entity);
        let mut invocation = WRITE.prepare_invoke();
        invocation
            .key(shard.live(entity))
            .key(&shard.dirty)
            .key(&shard.state)
            .arg(mode)
            .arg(field)
            .arg(arg)
            .arg(millis(self.shared.config.pending_ttl))
            .arg(entity)
            .arg(random_id());
        let config = &self.shared.config;
        let replicated = config.replicated_writes;
        invocation.arg(if replicated { "1" } else { "0" });
        let reply = if replicated {
            self.write_replicated(index, &invocation).await
        } else {
            self.run::<(String, String, usize)>(&invocation).await
        };
        let counters = &self.shared.metrics.counters;
        match reply {
            Ok((out, epoch, _)) => {
                counters.writes.fetch_add(1, Relaxed);
                self.observe_epoch(index, &epoch);
                Ok(out)
            }
            Err(error) => {
                counters.write_errors.fetch_add(1, Relaxed);
                Err(error)
            }
        }
    }

    /// Runs a write and waits for the replicas; an unconfirmed write is reported as
    /// ambiguous ([`Error::Timeout`]): Redis holds it, a failover may lose it.
    async fn write_replicated(
        &self,
        index: usize,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<(String, String, usize), Error> {
        let replicas = self.replicas_to_wait(index).await?;
        let ((out, epoch, connected), acked) = self
            .run_replicated::<(String, String, usize)>(&WRITE, invocation, replicas)
            .await?;
        if !self.replicated(index, connected, acked) {
            self.observe_epoch(index, &epoch);
            return Err(Error::Timeout(self.shared.config.replication_timeout));
        }
        Ok((out, epoch, connected))
    }

    /// Changes of `entity` not yet accepted by the sink: those waiting for a flush plus those
    /// in batches claimed but not acknowledged. What a reader shows is the database's value
    /// plus these. Between the sink's commit and the acknowledgement (one round trip) a batch
    /// is counted in both; while it is being retried it is counted here only.
    ///
    /// ```no_run
    /// # async fn run(likes: cache_writeback::WriteBack) -> Result<(), cache_writeback::Error> {
    /// let from_db = 1_000;
    /// let pending = likes.pending("post:42").await?;
    /// println!("{} likes", from_db + pending.delta("likes"));
    /// # Ok(()) }
    /// ```
    pub async fn pending(&self, entity: &str) -> Result<Changes, Error> {
        let (_, shard) = self.shard(entity);
        let mut invocation = PENDING.prepare_invoke();
        invocation
            .key(shard.live(entity))
            .key(&shard.inflight)
            .arg(&shard.tag)
            .arg(entity);
        let (live, blobs): (Vec<String>, Vec<Vec<u8>>) = self.run(&invocation).await?;
        let mut live = live.into_iter();
        let pairs: Vec<(String, String)> =
            std::iter::from_fn(|| Some((live.next()?, live.next()?))).collect();
        let mut changes = Changes::from_pairs(pairs);
        for blob in blobs {
            changes.merge(Changes::decode(&blob));
        }
        Ok(changes)
    }

    /// Runs a script through the tier's breaker, waiting at least [`WRITE_TIMEOUT_FLOOR`].
    pub(crate) async fn run<T: FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, Error> {
        let redis = &self.shared.redis;
        let limit = redis.config().command_timeout.max(WRITE_TIMEOUT_FLOOR);
        redis.run_script(invocation, limit).await
    }
}

impl Changes {
    /// The pending delta of `field` (0 if none).
    ///
    /// ```
    /// assert_eq!(cache_writeback::Changes::default().delta("likes"), 0);
    /// ```
    pub fn delta(&self, field: &str) -> i64 {
        self.deltas.get(field).copied().unwrap_or(0)
    }
}
