//! Schema and deterministic seed data: ~50 chains, the largest with ~800 stores (seed 002),
//! brands and services per store, and posts with like counts (seed 003).

use sqlx::AnyPool;

use super::Db;

/// How much to seed; tests use a small data set to start fast.
#[derive(Debug, Clone, Copy)]
pub struct SeedSize {
    /// Number of chains.
    pub chains: i64,
    /// Stores in chain 1 (the big one).
    pub largest_chain: i64,
    /// Number of posts.
    pub posts: i64,
}

impl SeedSize {
    /// The demo data set.
    pub const FULL: SeedSize = SeedSize {
        chains: 50,
        largest_chain: 800,
        posts: 100,
    };
}

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

const SERVICES: &[&str] = &[
    "eye exam",
    "contact lenses",
    "frame repair",
    "same-day glasses",
    "sunglasses",
    "kids' frames",
];
const STREETS: &[&str] = &[
    "Teheran-ro",
    "Gangnam-daero",
    "Sejong-daero",
    "Hangang-daero",
    "Olympic-ro",
];

pub(super) async fn create_schema(pool: &AnyPool) -> Result<(), sqlx::Error> {
    for statement in SCHEMA {
        sqlx::query(statement).execute(pool).await?;
    }
    Ok(())
}

/// A tiny deterministic generator (xorshift64*): the same data on every machine and run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> i64 {
        i64::try_from(self.next() % n).unwrap_or(0)
    }
}

pub(super) async fn seed_if_empty(pool: &AnyPool, size: SeedSize) -> Result<(), sqlx::Error> {
    let (chains,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM chains")
        .fetch_one(pool)
        .await?;
    if chains > 0 {
        return Ok(());
    }
    let mut rng = Rng(0x5EED_CAFE);
    let now = Db::now_micros();
    let mut tx = pool.begin().await?;
    for brand in 1..=30_i64 {
        sqlx::query("INSERT INTO brands (id, name) VALUES ($1, $2)")
            .bind(brand)
            .bind(format!("Brand {brand:02}"))
            .execute(&mut *tx)
            .await?;
    }
    let mut store_id = 0_i64;
    for chain in 1..=size.chains {
        sqlx::query("INSERT INTO chains (id, name) VALUES ($1, $2)")
            .bind(chain)
            .bind(format!("Optics Chain {chain}"))
            .execute(&mut *tx)
            .await?;
        let stores = if chain == 1 {
            size.largest_chain
        } else {
            3 + rng.below(60)
        };
        for n in 1..=stores {
            store_id += 1;
            let street = STREETS[usize::try_from(rng.below(STREETS.len() as u64)).unwrap_or(0)];
            sqlx::query(
                "INSERT INTO stores (id, chain_id, name, address, phone, latitude, longitude, \
                 opening_hours, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(store_id)
            .bind(chain)
            .bind(format!("Optics Chain {chain} #{n}"))
            .bind(format!("{} {street}, Seoul", 1 + rng.below(400)))
            .bind(format!(
                "02-{:04}-{:04}",
                rng.below(10_000),
                rng.below(10_000)
            ))
            .bind(37.45 + rng.below(20_000) as f64 / 100_000.0)
            .bind(126.85 + rng.below(30_000) as f64 / 100_000.0)
            .bind(format!(
                "Mon-Fri 10:00-{}:00, Sat 10:00-18:00",
                19 + rng.below(3)
            ))
            .bind(now - rng.below(86_400_000_000))
            .execute(&mut *tx)
            .await?;
            let first_brand = 1 + rng.below(30);
            for b in 0..(1 + rng.below(3)) {
                sqlx::query("INSERT INTO store_brands (store_id, brand_id) VALUES ($1, $2)")
                    .bind(store_id)
                    .bind(1 + (first_brand + b * 7) % 30)
                    .execute(&mut *tx)
                    .await?;
            }
            let first_service = rng.below(SERVICES.len() as u64);
            for s in 0..(1 + rng.below(4)) {
                let service = SERVICES
                    [usize::try_from((first_service + s) % SERVICES.len() as i64).unwrap_or(0)];
                sqlx::query("INSERT INTO store_services (store_id, service) VALUES ($1, $2)")
                    .bind(store_id)
                    .bind(service)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    for post in 1..=size.posts {
        sqlx::query("INSERT INTO posts (id, title, body, likes) VALUES ($1, $2, $3, $4)")
            .bind(post)
            .bind(format!("Post {post}"))
            .bind(format!("Why lens coating {post} matters"))
            .bind(rng.below(500))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}
