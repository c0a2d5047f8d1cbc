//! The model database the loaders read and the writers bump, and the cache nodes under test.

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheKey, LocalTier, Options, RemoteTier};
use cache_redis::{RedisTier, RedisTierBuilder};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use super::history::Recorder;

/// Rows of the model; tags group them by four so a tag invalidation covers several keys.
pub const ROWS: u32 = 12;
pub const GROUP: u32 = 4;

/// Around the 300–1000 ms the brief asks for: short enough that a SIGSTOP outlives it, roomy
/// enough for two shared cores.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(400);

/// What is cached for a row: which row (a sanity check) and the version the loader saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    pub row: u32,
    pub version: u64,
}

pub fn key(row: u32) -> CacheKey {
    CacheKey::new("row", &row)
}

pub fn tag(row: u32) -> String {
    format!("g{}", row / GROUP)
}

/// Long TTL: nothing may expire during a run, so every change is due to a write or a fault.
pub fn opts(row: u32) -> Options {
    Options::new()
        .ttl(Duration::from_secs(600))
        .tags([tag(row)])
}

/// Row versions behind a mutex, plus one async lock per row that writers hold from the bump
/// until their cache call returned: `set` is last-writer-wins, so writers of one key must
/// order themselves (the engine's contract says so).
pub struct Db {
    versions: Mutex<Vec<u64>>,
    pub row_locks: Vec<tokio::sync::Mutex<()>>,
}

impl Db {
    pub fn new() -> Arc<Db> {
        Arc::new(Db {
            versions: Mutex::new(vec![0; ROWS as usize]),
            row_locks: (0..ROWS).map(|_| tokio::sync::Mutex::new(())).collect(),
        })
    }

    pub fn read(&self, row: u32) -> u64 {
        self.versions.lock()[row as usize]
    }

    /// Commits version n + 1 of `row` and returns it.
    pub fn bump(&self, row: u32) -> u64 {
        let mut versions = self.versions.lock();
        versions[row as usize] += 1;
        versions[row as usize]
    }
}

/// One node: its own `RedisTier` (own connections, own backplane id) and local tier.
#[derive(Clone)]
pub struct Node {
    pub cache: Cache,
    pub tier: RedisTier,
}

/// Short breaker cool-down and replay period so a run sees several outages and recoveries.
pub fn tune(builder: RedisTierBuilder) -> RedisTierBuilder {
    builder
        .command_timeout(COMMAND_TIMEOUT)
        .breaker_cooldown(Duration::from_millis(300))
        .recovery_interval(Duration::from_millis(50))
}

/// Builds the cache on `tier`, then registers the recorder's listener — after the cache's own,
/// so it runs second (see `Recorder::delivered`).
pub fn node(index: usize, tier: RedisTier, recorder: &Recorder) -> Node {
    let cache = Cache::builder()
        .namespace("coh")
        .local(LocalTier::new(8 << 20))
        .remote(tier.clone())
        .build();
    let recorder = recorder.clone();
    tier.subscribe(Arc::new(move |event| recorder.delivered(index, event)));
    Node { cache, tier }
}
