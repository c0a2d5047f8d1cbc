//! The database: SQLite by default, PostgreSQL when `DATABASE_URL` says so, through sqlx's
//! `Any` driver so one set of queries serves both.

mod posts;
mod seed;
mod stores;

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};

pub use seed::SeedSize;

/// A database failure.
#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub struct DbError(#[from] sqlx::Error);

/// A pool of connections plus the queries the API needs.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
}

impl Db {
    /// Connects (creating the SQLite file if needed), creates the schema and seeds it once.
    pub async fn open(url: &str, seed: SeedSize) -> Result<Db, DbError> {
        install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            // SQLite serialises writers; a small pool avoids lock contention.
            .max_connections(if is_sqlite { 4 } else { 16 })
            .connect(url)
            .await?;
        if is_sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let db = Db { pool };
        seed::create_schema(&db.pool).await?;
        seed::seed_if_empty(&db.pool, seed).await?;
        Ok(db)
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Now in µs since the epoch, the unit of every `updated_at`.
    pub fn now_micros() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
    }
}
