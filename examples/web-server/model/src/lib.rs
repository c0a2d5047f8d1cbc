//! The example server's data model: what its API returns (plain data: seed 002 caches finished
//! JSON-ready values, never lazy query objects), and the deterministic seed data its database
//! starts with ([`seed`]).
//!
//! A crate of its own, with serde as its only dependency, so the benches cache and encode exactly
//! the example's values without depending on the server (axum, sqlx) itself.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod seed;

use serde::{Deserialize, Serialize};

/// A store as the APIs show it, with its related rows folded in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreJson {
    /// Primary key.
    pub id: i64,
    /// The chain it belongs to.
    pub chain_id: i64,
    /// Display name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Phone number.
    pub phone: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Opening hours, human readable.
    pub opening_hours: String,
    /// Brands carried.
    pub brands: Vec<String>,
    /// Services offered.
    pub services: Vec<String>,
    /// Last change, µs since the epoch (part of the cache key).
    pub updated_at: i64,
}

/// A post with its like count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostJson {
    /// Primary key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Body text.
    pub body: String,
    /// Likes so far.
    pub likes: i64,
}

/// Fields `PATCH /stores/{id}` may change; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorePatch {
    /// New display name.
    pub name: Option<String>,
    /// New address.
    pub address: Option<String>,
    /// New phone number.
    pub phone: Option<String>,
    /// New opening hours.
    pub opening_hours: Option<String>,
}

/// A chain's identity and the version of its store list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainVersion {
    /// Number of stores.
    pub count: u64,
    /// The chain's `version`, bumped by the database with every change to its stores.
    pub version: i64,
}
