//! Posts and their like counters (seed 003).

use sqlx::Row;

use super::{Db, DbError};
use crate::models::PostJson;

impl Db {
    /// One post, or `None`.
    pub async fn post(&self, id: i64) -> Result<Option<PostJson>, DbError> {
        let row = sqlx::query("SELECT id, title, body, likes FROM posts WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => Some(PostJson {
                id: row.try_get(0)?,
                title: row.try_get(1)?,
                body: row.try_get(2)?,
                likes: row.try_get(3)?,
            }),
            None => None,
        })
    }

    /// Adds `delta` likes to a post in one atomic statement; `false` if there is no such post.
    pub async fn add_likes(&self, id: i64, delta: i64) -> Result<bool, DbError> {
        let result = sqlx::query("UPDATE posts SET likes = likes + $1 WHERE id = $2")
            .bind(delta)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(result.rows_affected() > 0)
    }

    /// Applies a write-back batch of `(post id, delta)` in one transaction that also records the
    /// batch id, so a batch delivered twice (after a flusher crash) is applied once.
    pub async fn apply_like_batch(
        &self,
        batch_id: &str,
        deltas: &[(i64, i64)],
    ) -> Result<(), DbError> {
        let mut tx = self.pool().begin().await?;
        let seen: Option<String> =
            sqlx::query_scalar("SELECT id FROM applied_batches WHERE id = $1")
                .bind(batch_id)
                .fetch_optional(&mut *tx)
                .await?;
        if seen.is_some() {
            return Ok(());
        }
        sqlx::query("INSERT INTO applied_batches (id) VALUES ($1)")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        for (post, delta) in deltas {
            sqlx::query("UPDATE posts SET likes = likes + $1 WHERE id = $2")
                .bind(*delta)
                .bind(*post)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
