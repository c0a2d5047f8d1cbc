//! Schema and the deterministic seed data (`web_server_model::seed`: ~50 chains, the largest
//! with ~800 stores, brands and services per store, posts with like counts) written into it.

use sqlx::AnyPool;
use web_server_model::seed::{self, BRANDS, brand_name};

pub use web_server_model::seed::SeedSize;

use super::Db;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS chains (id BIGINT PRIMARY KEY, name TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS stores (id BIGINT PRIMARY KEY, chain_id BIGINT NOT NULL, \
     name TEXT NOT NULL, address TEXT NOT NULL, phone TEXT NOT NULL, \
     latitude DOUBLE PRECISION NOT NULL, longitude DOUBLE PRECISION NOT NULL, \
     opening_hours TEXT NOT NULL, updated_at BIGINT NOT NULL)",
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
    Ok(())
}

pub(super) async fn seed_if_empty(pool: &AnyPool, size: SeedSize) -> Result<(), sqlx::Error> {
    let (chains,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM chains")
        .fetch_one(pool)
        .await?;
    if chains > 0 {
        return Ok(());
    }
    let data = seed::generate(size, Db::now_micros());
    let mut tx = pool.begin().await?;
    for brand in 1..=BRANDS {
        sqlx::query("INSERT INTO brands (id, name) VALUES ($1, $2)")
            .bind(brand)
            .bind(brand_name(brand))
            .execute(&mut *tx)
            .await?;
    }
    for chain in &data.chains {
        sqlx::query("INSERT INTO chains (id, name) VALUES ($1, $2)")
            .bind(chain.id)
            .bind(&chain.name)
            .execute(&mut *tx)
            .await?;
        for store in &chain.stores {
            sqlx::query(
                "INSERT INTO stores (id, chain_id, name, address, phone, latitude, longitude, \
                 opening_hours, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
