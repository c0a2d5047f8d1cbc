//! Likes (seed 003). With Redis, a like is an atomic `HINCRBY` buffered by
//! [`WriteBack`] and flushed to the database in batches, exactly once
//! per batch (the batch id is recorded in the same transaction as the counts). Without Redis it
//! is written through with one atomic `UPDATE`. Either way no like is ever lost, and readers see
//! the database count plus what is still pending.
//!
//! Known window: a read is two steps (the cached post, then the pending delta) and a flush is
//! three (write the batch, drop the cached posts, acknowledge the batch). A read whose first step
//! lands before the flush drops the post and whose second lands after the acknowledgement shows
//! the count one batch short; the next read is exact. Closing it needs the post to carry the last
//! applied batch generation and the reader to retry on a mismatch (not done).

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheKey};
use cache_redis::RedisTier;
use cache_writeback::{Batch, FlusherHandle, Sink, SinkError, WriteBack};

use crate::db::Db;
use crate::error::ApiError;

/// How often buffered likes are written to the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Where likes go.
#[derive(Clone)]
pub enum Likes {
    /// One `UPDATE` per like.
    WriteThrough(Db),
    /// Buffered in Redis, flushed in batches.
    WriteBack {
        /// The buffer.
        buffer: WriteBack,
        /// The database sink the flusher writes to.
        sink: Arc<DbSink>,
        /// Keeps the flusher running for as long as the server runs.
        _flusher: Arc<FlusherHandle>,
    },
}

/// Applies a batch of like deltas to the `posts` table, at most once per batch id, then drops
/// the cached posts on every node so readers never add pending likes to a stale count.
pub struct DbSink {
    db: Db,
    cache: Cache,
    /// The cached post's key (`cached::post_cache_key`), passed in so likes sit below the
    /// cached functions rather than beside them.
    post_key: fn(&i64) -> CacheKey,
}

#[async_trait::async_trait]
impl Sink for DbSink {
    async fn write(&self, batch: &Batch) -> Result<(), SinkError> {
        let deltas: Vec<(i64, i64)> = batch
            .entities
            .iter()
            .filter_map(|(post, changes)| Some((post.parse().ok()?, changes.delta("likes"))))
            .collect();
        self.db
            .apply_like_batch(&batch.id, &deltas)
            .await
            .map_err(SinkError::new)?;
        for (post, _) in &deltas {
            self.cache.invalidate(&(self.post_key)(post)).await;
        }
        Ok(())
    }
}

impl Likes {
    /// Write-back when a Redis tier is configured, write-through otherwise. `post_key` names a
    /// post's cached entry, which every flushed batch invalidates.
    pub fn new(
        db: &Db,
        cache: &Cache,
        redis: Option<&RedisTier>,
        post_key: fn(&i64) -> CacheKey,
    ) -> Result<Likes, String> {
        let Some(tier) = redis else {
            return Ok(Likes::WriteThrough(db.clone()));
        };
        let buffer = WriteBack::builder(tier, "web:likes")
            .build()
            .map_err(|e| e.to_string())?;
        let sink = Arc::new(DbSink {
            db: db.clone(),
            cache: cache.clone(),
            post_key,
        });
        let flusher = buffer.spawn_flusher(FLUSH_EVERY, sink.clone() as Arc<dyn Sink>);
        Ok(Likes::WriteBack {
            buffer,
            sink,
            _flusher: Arc::new(flusher),
        })
    }

    /// Whether a like reaches the database immediately (so cached posts must be invalidated).
    pub fn writes_through(&self) -> bool {
        matches!(self, Likes::WriteThrough(_))
    }

    /// Records one like of `post_id` (which the caller checked exists).
    pub async fn like(&self, post_id: i64) -> Result<(), ApiError> {
        match self {
            Likes::WriteThrough(db) => {
                db.add_likes(post_id, 1).await?;
            }
            Likes::WriteBack { buffer, .. } => {
                buffer
                    .incr(&post_id.to_string(), "likes", 1)
                    .await
                    .map_err(|error| {
                        tracing::error!(%error, "buffering a like");
                        ApiError::Internal
                    })?;
            }
        }
        Ok(())
    }

    /// Likes accepted but not yet in the database.
    pub async fn pending(&self, post_id: i64) -> i64 {
        match self {
            Likes::WriteThrough(_) => 0,
            Likes::WriteBack { buffer, .. } => match buffer.pending(&post_id.to_string()).await {
                Ok(changes) => changes.delta("likes"),
                Err(error) => {
                    tracing::warn!(%error, "reading pending likes; showing the database count");
                    0
                }
            },
        }
    }

    /// Writes everything pending to the database now (admin and shutdown).
    pub async fn flush(&self) -> Result<(), String> {
        match self {
            Likes::WriteThrough(_) => Ok(()),
            Likes::WriteBack { buffer, sink, .. } => buffer
                .drain(sink.as_ref(), Duration::from_secs(30))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }
}
