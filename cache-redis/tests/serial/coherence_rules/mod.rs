//! Deterministic regression tests of the coherence rules, one (or a few) per rule.
//!
//! The randomized checker (`tests/serial/coherence`) finds violations by chance; these tests build
//! the one interleaving each rule is about — with channels inside loaders, `SIGSTOP`/`SIGCONT`
//! of redis-server and the breaker's cool-down as a gate — and assert what the old design
//! (plain `SET` fills, a separate lease key, failed fills queued as writes, leases left to
//! expire) got wrong. Sleeps appear only as bounded waits. Needs `redis-server` and
//! `redis-cli`; every test starts its own servers on free ports.

use crate::common;

mod rule1_hammer;
mod rule1_overlap;
mod rule4_outage;
mod rule6_tags;
mod rule7_lease;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cache_core::{Codec, Options};

/// Bound on every wait for something that should happen at once.
pub const WITHIN: Duration = Duration::from_secs(2);

// The tests run one after the other: several use 200 ms command timeouts, which a Cluster
// starting on the same two cores could trip spuriously.
use crate::SERIAL;

/// The row the loaders read: the source of truth the cache must not contradict.
#[derive(Clone, Default)]
pub struct Model(Arc<AtomicU64>);

impl Model {
    pub fn new(version: u64) -> Model {
        Model(Arc::new(AtomicU64::new(version)))
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
    pub fn set(&self, version: u64) {
        self.0.store(version, Ordering::SeqCst);
    }
}

/// Long enough that nothing expires during a test: what disappears was deleted.
pub fn opts() -> Options {
    Options::new().ttl(Duration::from_secs(600))
}

/// The `u64` Redis holds under `remote_key`: `None` when the key is absent or holds a lease.
pub async fn raw_value(
    conn: &mut redis::aio::MultiplexedConnection,
    remote_key: &str,
) -> Option<u64> {
    let bytes: Option<Vec<u8>> = redis::cmd("GET")
        .arg(remote_key)
        .query_async(conn)
        .await
        .unwrap_or_else(|error| panic!("GET {remote_key} through the raw connection: {error}"));
    let envelope = cache_redis::fenced::envelope(bytes?)?;
    let (_, value): (_, u64) = Codec::default()
        .decode(&envelope)
        .expect("what the tier wrote decodes");
    Some(value)
}

/// Awaits `future`, failing the test if it takes longer than `within`.
pub async fn bounded<F: std::future::Future>(within: Duration, what: &str, future: F) -> F::Output {
    tokio::time::timeout(within, future)
        .await
        .unwrap_or_else(|_| panic!("not within {within:?}: {what}"))
}
