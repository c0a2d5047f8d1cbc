//! The database: SQLite by default, PostgreSQL when `DATABASE_URL` says so, through sqlx's
//! `Any` driver so one set of queries serves both.

mod posts;
mod probe;
mod seed;
mod stores;

use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};

pub use probe::PROBE_EVERY;
pub use seed::SeedSize;

/// How long a query waits for a pooled connection when `DB_ACQUIRE_TIMEOUT_MS` is unset: short,
/// so a stuck database answers 503 quickly instead of piling up requests.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(2_000);

/// A database failure.
#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub struct DbError(#[from] sqlx::Error);

impl DbError {
    /// Whether the database is busy or unreachable rather than the query wrong: no pooled
    /// connection came within the acquire timeout, the pool is closed, or the connection failed.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self.0,
            sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed
        ) || matches!(&self.0, sqlx::Error::Database(e) if is_busy(e.as_ref()))
    }
}

/// SQLite's "database is locked" / "busy" after its busy timeout: the database is stuck, not
/// the query wrong.
fn is_busy(error: &dyn sqlx::error::DatabaseError) -> bool {
    matches!(
        error.code().as_deref(),
        Some("5" | "6" | "261" | "262" | "517")
    )
}

/// A pool of connections plus the queries the API needs.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    probe: Arc<probe::Probe>,
}

impl Db {
    /// Connects (creating the SQLite file if needed), creates the schema and seeds it once.
    pub async fn open(url: &str, seed: SeedSize) -> Result<Db, DbError> {
        Db::open_with(url, seed, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// [`Db::open`], with queries giving up (`sqlx::Error::PoolTimedOut`) after waiting
    /// `acquire_timeout` for a connection.
    pub async fn open_with(
        url: &str,
        seed: SeedSize,
        acquire_timeout: Duration,
    ) -> Result<Db, DbError> {
        install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            // SQLite serialises writers; a small pool avoids lock contention.
            .max_connections(if is_sqlite { 4 } else { 16 })
            .acquire_timeout(acquire_timeout)
            .connect(url)
            .await?;
        if is_sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let db = Db {
            pool,
            probe: Arc::new(probe::Probe::new()),
        };
        seed::create_schema(&db.pool).await?;
        seed::seed_if_empty(&db.pool, seed).await?;
        Ok(db)
    }

    /// Whether the database answers, from a shared ping at most [`PROBE_EVERY`] old.
    pub async fn is_up(&self) -> bool {
        self.probe.is_up(&self.pool).await
    }

    /// How many health pings this pool has sent (tests check that `/healthz` is cheap).
    pub fn health_pings(&self) -> u64 {
        self.probe.pings()
    }

    /// Closes the pool: every later query fails as unavailable (`PoolClosed`). Used at shutdown,
    /// and by tests to take the database away.
    pub async fn close(&self) {
        self.pool.close().await;
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
