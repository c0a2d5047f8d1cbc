//! Schema and the deterministic seed data (`web_server_model::seed`: ~50 chains, the largest
//! with ~800 stores, brands and services per store, posts with like counts) written into it.

use sqlx::AnyPool;
use web_server_model::seed::{self, BRANDS, brand_name};

pub use web_server_model::seed::SeedSize;

use super::Db;

const SCHEMA: &[&str] = &[
    // `version` (chains and stores) is the version in the cache keys: every write bumps it in the
    // database, so it moves whatever the interleaving or the app servers' clocks.
    "CREATE TABLE IF NOT EXISTS chains (id BIGINT PRIMARY KEY, name TEXT NOT NULL, \
     version BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS stores (id BIGINT PRIMARY KEY, chain_id BIGINT NOT NULL, \
     name TEXT NOT NULL, address TEXT NOT NULL, phone TEXT NOT NULL, \
     latitude DOUBLE PRECISION NOT NULL, longitude DOUBLE PRECISION NOT NULL, \
     opening_hours TEXT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS stores_by_chain ON stores (chain_id)",
    "CREATE TABLE IF NOT EXISTS brands (id BIGINT PRIMARY KEY, name TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS store_brands (store_id BIGINT NOT NULL, brand_id BIGINT NOT NULL, \
     PRIMARY KEY (store_id, brand_id))",
    "CREATE TABLE IF NOT EXISTS store_services (store_id BIGINT NOT NULL, service TEXT NOT NULL, \
     PRIMARY KEY (store_id, service))",
    "CREATE TABLE IF NOT EXISTS posts (id BIGINT PRIMARY KEY, title TEXT NOT NULL, \
     body TEXT NOT NULL, likes BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS applied_batches (id TEXT PRIMARY KEY)",
];

pub(super) async fn create_schema(pool: &AnyPool) -> Result<(), sqlx::Error> {
    for statement in SCHEMA {
        sqlx::query(statement).execute(pool).await?;
    }
    add_missing_version_columns(pool).await
}

/// A database seeded before the `version` columns existed gets them. They start from the clock
/// (stores: from their `updated_at`), like a fresh seed's, so the new keys differ from any an
/// older database left behind in a shared Redis.
async fn add_missing_version_columns(pool: &AnyPool) -> Result<(), sqlx::Error> {
    if add_version_column(pool, "chains").await? {
        sqlx::query("UPDATE chains SET version = $1")
            .bind(Db::now_micros())
            .execute(pool)
            .await?;
    }
    if add_version_column(pool, "stores").await? {
        sqlx::query("UPDATE stores SET version = updated_at")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Adds `table.version` unless it is there; says whether it was added.
async fn add_version_column(pool: &AnyPool, table: &str) -> Result<bool, sqlx::Error> {
    let probe = format!("SELECT version FROM {table} WHERE 1 = 0");
    if sqlx::query(&probe).execute(pool).await.is_ok() {
        return Ok(false);
    }
    let add = format!("ALTER TABLE {table} ADD COLUMN version BIGINT NOT NULL DEFAULT 0");
    sqlx::query(&add).execute(pool).await?;
    Ok(true)
}

pub(super) async fn seed_if_empty(pool: &AnyPool, size: SeedSize) -> Result<(), sqlx::Error> {
    let (chains,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM chains")
        .fetch_one(pool)
        .await?;
    if chains > 0 {
        return Ok(());
    }
    let now = Db::now_micros();
    let data = seed::generate(size, now);
    let mut tx = pool.begin().await?;
    for brand in 1..=BRANDS {
        sqlx::query("INSERT INTO brands (id, name) VALUES ($1, $2)")
            .bind(brand)
            .bind(brand_name(brand))
            .execute(&mut *tx)
            .await?;
    }
    for chain in &data.chains {
        // Versions start from the seeding clock, not 0: a database re-created from scratch must
        // not reuse keys whose old values may still sit in a shared Redis.
        sqlx::query("INSERT INTO chains (id, name, version) VALUES ($1, $2, $3)")
            .bind(chain.id)
            .bind(&chain.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        for store in &chain.stores {
            sqlx::query(
                "INSERT INTO stores (id, chain_id, name, address, phone, latitude, longitude, \
                 opening_hours, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            )
            .bind(store.id)
            .bind(store.chain_id)
            .bind(&store.name)
            .bind(&store.address)
            .bind(&store.phone)
            .bind(store.latitude)
            .bind(store.longitude)
            .bind(&store.opening_hours)
            .bind(store.updated_at)
            .execute(&mut *tx)
            .await?;
            for &brand in &store.brand_ids {
                sqlx::query("INSERT INTO store_brands (store_id, brand_id) VALUES ($1, $2)")
                    .bind(store.id)
                    .bind(brand)
                    .execute(&mut *tx)
                    .await?;
            }
            for &service in &store.services {
                sqlx::query("INSERT INTO store_services (store_id, service) VALUES ($1, $2)")
                    .bind(store.id)
                    .bind(service)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    for post in &data.posts {
        sqlx::query("INSERT INTO posts (id, title, body, likes) VALUES ($1, $2, $3, $4)")
            .bind(post.id)
            .bind(&post.title)
            .bind(&post.body)
            .bind(post.likes)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
