//! Store and chain queries. The chain list is assembled from three real queries (stores, their
//! brands, their services), which is exactly the work the cache saves.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, DbError};
use crate::models::{ChainVersion, StoreJson, StorePatch};

const STORE_COLUMNS: &str = "s.id, s.chain_id, s.name, s.address, s.phone, s.latitude, \
                             s.longitude, s.opening_hours, s.updated_at";

fn store_from_row(row: &AnyRow) -> Result<StoreJson, sqlx::Error> {
    Ok(StoreJson {
        id: row.try_get(0)?,
        chain_id: row.try_get(1)?,
        name: row.try_get(2)?,
        address: row.try_get(3)?,
        phone: row.try_get(4)?,
        latitude: row.try_get(5)?,
        longitude: row.try_get(6)?,
        opening_hours: row.try_get(7)?,
        brands: Vec::new(),
        services: Vec::new(),
        updated_at: row.try_get(8)?,
    })
}

impl Db {
    /// The version of a chain's store list, or `None` if there is no such chain. This is the cheap
    /// query that decides the cache key (Rails' `cache_key_with_version`); one statement, so the
    /// count and the version come from one snapshot.
    pub async fn chain_version(&self, chain_id: i64) -> Result<Option<ChainVersion>, DbError> {
        let row = sqlx::query(
            "SELECT COUNT(s.id), c.version FROM chains c \
             LEFT JOIN stores s ON s.chain_id = c.id WHERE c.id = $1 GROUP BY c.id, c.version",
        )
        .bind(chain_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(row) => Some(ChainVersion {
                count: u64::try_from(row.try_get::<i64, _>(0)?).unwrap_or(0),
                version: row.try_get(1)?,
            }),
            None => None,
        })
    }

    /// Every store of a chain with its brands and services, ordered by id.
    pub async fn chain_stores(&self, chain_id: i64) -> Result<Vec<StoreJson>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {STORE_COLUMNS} FROM stores s WHERE s.chain_id = $1 ORDER BY s.id"
        ))
        .bind(chain_id)
        .fetch_all(self.pool())
        .await?;
        let mut stores = rows
            .iter()
            .map(store_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let brands = sqlx::query(
            "SELECT sb.store_id, b.name FROM store_brands sb JOIN brands b ON b.id = sb.brand_id \
             JOIN stores s ON s.id = sb.store_id WHERE s.chain_id = $1 ORDER BY sb.store_id, b.name",
        )
        .bind(chain_id)
        .fetch_all(self.pool())
        .await?;
        let services = sqlx::query(
            "SELECT ss.store_id, ss.service FROM store_services ss JOIN stores s ON s.id = ss.store_id \
             WHERE s.chain_id = $1 ORDER BY ss.store_id, ss.service",
        )
        .bind(chain_id)
        .fetch_all(self.pool())
        .await?;
        let index: HashMap<i64, usize> =
            stores.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        for row in &brands {
            if let Some(&i) = index.get(&row.try_get::<i64, _>(0)?) {
                stores[i].brands.push(row.try_get(1)?);
            }
        }
        for row in &services {
            if let Some(&i) = index.get(&row.try_get::<i64, _>(0)?) {
                stores[i].services.push(row.try_get(1)?);
            }
        }
        Ok(stores)
    }

    /// A store's `version`, or `None` if it does not exist (the version in its cache key).
    pub async fn store_version(&self, id: i64) -> Result<Option<i64>, DbError> {
        let row = sqlx::query("SELECT version FROM stores WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// One store with its brands and services.
    pub async fn store(&self, id: i64) -> Result<Option<StoreJson>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {STORE_COLUMNS} FROM stores s WHERE s.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut store = store_from_row(&row)?;
        store.brands = sqlx::query_scalar(
            "SELECT b.name FROM store_brands sb JOIN brands b ON b.id = sb.brand_id \
             WHERE sb.store_id = $1 ORDER BY b.name",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        store.services = sqlx::query_scalar(
            "SELECT service FROM store_services WHERE store_id = $1 ORDER BY service",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(Some(store))
    }

    /// Applies `patch`, and in the same transaction bumps the store's `version` and its chain's
    /// (Rails' `touch: true`). The database does the counting, so every committed update moves
    /// both cache keys whatever the interleaving and whatever the app servers' clocks say.
    /// `updated_at` is display data; it still moves forward strictly. Returns `false` if there is
    /// no such store.
    pub async fn update_store(&self, id: i64, patch: &StorePatch) -> Result<bool, DbError> {
        // The store row is locked before the chain row in every update, so concurrent updates
        // queue on the chain row instead of deadlocking.
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE stores SET name = COALESCE($1, name), address = COALESCE($2, address), \
             phone = COALESCE($3, phone), opening_hours = COALESCE($4, opening_hours), \
             updated_at = CASE WHEN updated_at >= $5 THEN updated_at + 1 ELSE $5 END, \
             version = version + 1 WHERE id = $6",
        )
        .bind(patch.name.clone())
        .bind(patch.address.clone())
        .bind(patch.phone.clone())
        .bind(patch.opening_hours.clone())
        .bind(Db::now_micros())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false); // dropping `tx` rolls back (nothing was written)
        }
        sqlx::query(
            "UPDATE chains SET version = version + 1 \
             WHERE id = (SELECT chain_id FROM stores WHERE id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores recommended to a user: deterministic per user, different between users.
    pub async fn recommendations(&self, user_id: i64) -> Result<Vec<StoreJson>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {STORE_COLUMNS} FROM stores s WHERE s.chain_id = $1 \
             ORDER BY (s.id * $2) % 97, s.id LIMIT 5"
        ))
        .bind(1 + user_id.rem_euclid(50))
        .bind(user_id.rem_euclid(1_000) + 1)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(store_from_row)
            .collect::<Result<Vec<_>, _>>()?)
    }

    /// A chain's name, or `None`.
    pub async fn chain_name(&self, chain_id: i64) -> Result<Option<String>, DbError> {
        Ok(sqlx::query_scalar("SELECT name FROM chains WHERE id = $1")
            .bind(chain_id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Ids of every chain (for pre-warming).
    pub async fn chain_ids(&self) -> Result<Vec<i64>, DbError> {
        Ok(sqlx::query_scalar("SELECT id FROM chains ORDER BY id")
            .fetch_all(self.pool())
            .await?)
    }
}
