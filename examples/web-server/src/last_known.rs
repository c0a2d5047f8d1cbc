//! The last version seen of each chain list and store, so the versioned routes can still answer
//! when the database is down. Those routes look the version up in the database *before* the
//! cache (the version is part of the key), so the cache's stale-while-revalidate and fail-safe
//! never get a chance there; with the version remembered, the cached body of the last known
//! version is served instead, marked stale (`Warning: 110`, `Age`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};

use crate::db::DbError;
use crate::error::ApiError;
use crate::models::ChainVersion;

/// Entries remembered per map at most: a bound on memory whatever ids clients ask for (only ids
/// that exist are remembered, so a seeded database stays well below it).
const MAX_REMEMBERED: usize = 100_000;

/// The last known versions, and how many stale answers they gave.
#[derive(Debug, Default)]
pub struct LastKnown {
    chains: VersionMap<ChainVersion>,
    stores: VersionMap<i64>,
    stale_served: AtomicU64,
}

/// A version, and how long ago the database last confirmed it when it could not be asked now.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<V> {
    /// The version to key the cache with.
    pub version: V,
    /// `Some(age)` when the database was unavailable and the remembered version is used.
    pub stale_for: Option<Duration>,
}

#[derive(Debug)]
struct VersionMap<V>(Mutex<HashMap<i64, (V, Instant)>>);

impl<V> Default for VersionMap<V> {
    fn default() -> Self {
        VersionMap(Mutex::new(HashMap::new()))
    }
}

impl LastKnown {
    /// A chain list's version from `lookup` (the database), or the remembered one when the
    /// database is unavailable. `Ok(None)`: no such chain.
    pub async fn chain_version(
        &self,
        chain_id: i64,
        lookup: impl Future<Output = Result<Option<ChainVersion>, DbError>>,
    ) -> Result<Option<Resolved<ChainVersion>>, ApiError> {
        self.resolve(&self.chains, chain_id, lookup).await
    }

    /// A store's version (`updated_at`), like [`LastKnown::chain_version`].
    pub async fn store_version(
        &self,
        store_id: i64,
        lookup: impl Future<Output = Result<Option<i64>, DbError>>,
    ) -> Result<Option<Resolved<i64>>, ApiError> {
        self.resolve(&self.stores, store_id, lookup).await
    }

    /// Responses served from a remembered version since start.
    pub fn stale_served(&self) -> u64 {
        self.stale_served.load(Ordering::Relaxed)
    }

    async fn resolve<V: Copy>(
        &self,
        map: &VersionMap<V>,
        id: i64,
        lookup: impl Future<Output = Result<Option<V>, DbError>>,
    ) -> Result<Option<Resolved<V>>, ApiError> {
        match lookup.await {
            Ok(Some(version)) => {
                let mut seen = map.0.lock().unwrap_or_else(|e| e.into_inner());
                if seen.len() < MAX_REMEMBERED || seen.contains_key(&id) {
                    seen.insert(id, (version, Instant::now()));
                }
                Ok(Some(Resolved {
                    version,
                    stale_for: None,
                }))
            }
            Ok(None) => Ok(None),
            Err(error) if error.is_unavailable() => {
                let remembered = map
                    .0
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&id)
                    .copied();
                let Some((version, confirmed)) = remembered else {
                    return Err(error.into());
                };
                tracing::warn!(%error, id, "database unavailable; serving the last known version");
                self.stale_served.fetch_add(1, Ordering::Relaxed);
                Ok(Some(Resolved {
                    version,
                    stale_for: Some(confirmed.elapsed()),
                }))
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// Marks a response served from a remembered version: RFC 7234's `Warning: 110` and an `Age`
/// counting from when the database last confirmed that version.
pub fn mark_stale(headers: &mut HeaderMap, stale_for: Option<Duration>) {
    if let Some(age) = stale_for {
        headers.insert(
            header::WARNING,
            HeaderValue::from_static("110 - \"Response is Stale\""),
        );
        headers.insert(header::AGE, HeaderValue::from(age.as_secs()));
    }
}
