//! Write-back for counters and last-writer-wins fields (seed 003's "likes"): writes go to
//! Redis at once and reach the database later, in batches, through a [`Sink`].
//!
//! This is a database write-behind queue, not a cache tier: it shares the Redis tier's
//! connection, circuit breaker, timeouts and password redaction (through
//! [`cache_redis::client::Client`]) and nothing else. Its keys live beside the cache's, under
//! their own prefix (`wb:` by default).
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use cache_redis::RedisTier;
//! use cache_writeback::{Batch, Sink, SinkError, WriteBack};
//!
//! struct Db;
//! #[async_trait::async_trait]
//! impl Sink for Db {
//!     async fn write(&self, batch: &Batch) -> Result<(), SinkError> {
//!         // One transaction: skip if batch.id is already in applied_batches, else apply
//!         // every delta and insert the id.
//!         Ok(())
//!     }
//! }
//!
//! # async fn run() -> Result<(), cache_writeback::Error> {
//! let tier = RedisTier::connect("redis://127.0.0.1:6379").await?;
//! let likes = WriteBack::builder(&tier, "likes").build()?;
//! likes.incr("post:42", "likes", 1).await?;
//! let shown = 1_000 /* from the database */ + likes.pending("post:42").await?.delta("likes");
//! let flusher = likes.spawn_flusher(Duration::from_secs(60), Arc::new(Db));
//! // … at shutdown:
//! flusher.stop().await;
//! likes.drain(&Db, Duration::from_secs(10)).await?;
//! # let _ = shown; Ok(()) }
//! ```
//!
//! # Layout and claiming
//!
//! Entities are spread over shards; every key of a shard carries the hash tag
//! `{<prefix><name>:<shard>}`, so each script below touches one Cluster slot:
//!
//! * `…:e:<entity>` — hash of pending changes: `c:<field>` → delta (`HINCRBY`), `s:<field>`
//!   → `version:value`. `…:dirty` — sorted set of dirty entities, scored by when they first
//!   became dirty. A write is one script: change the hash, `ZADD NX` the entity, refresh TTLs.
//! * A flusher **claims** with one script: it moves up to `max_batch_entities` dirty entities
//!   into a batch record `…:b:<id>` — for each entity, read its hash and delete it in the
//!   same atomic step — and registers the batch in `…:inflight` with a deadline. The changes
//!   in a batch are therefore exactly those removed from the live hashes: the read-then-delete
//!   race of seed 003 cannot happen, and an increment that arrives during a flush simply
//!   stays pending for the next batch. (`RENAME` of a whole dirty set would need every entity
//!   hash in one slot; streams would need a second structure for reads. One script is both.)
//! * The sink accepts → the batch record is deleted (**ack**). The sink fails → the batch is
//!   **released** with an exponential backoff, keeping its id and contents, and is claimed
//!   again when due (seed 003's retry, without merging deltas back, which could double-apply
//!   after an ambiguous failure). A flusher that stops mid-batch (crash, abort) leaves it in
//!   `…:inflight`; once its deadline (`claim_timeout`) passes any flusher **reclaims** it.
//! * Several nodes may run flushers at once: a claim is atomic, so two flushers never take
//!   the same changes. A batch can still be delivered twice (the sink applied it but the ack
//!   was lost, or a flusher stalled past the claim timeout), always with the same id: the
//!   [`Sink`] must be idempotent by [`Batch::id`].
//! * Last-writer-wins values carry a version (server µs clock, strictly increasing per shard),
//!   because a retried batch may reach the sink after a newer one.
//! * At most `max_inflight` batches per shard exist; while the sink is down, new changes
//!   simply accumulate (merged) in the live hashes.
//!
//! # TTLs and what is at risk
//!
//! Every key has a TTL (`pending_ttl`, default 24 h), refreshed by every write to the entity
//! (live hash, dirty set, shard state) and by every claim or release (batch record, in-flight
//! set); the dirty set is refreshed by any write in its shard, so it outlives the hashes it
//! indexes. `pending_ttl` must be far longer than the flush interval (seed 003 used 2 h
//! against a 50 min flush; the builder refuses less than 4 × `claim_timeout`) *and* than the
//! longest database outage to ride out: a change not flushed within `pending_ttl` of its
//! entity's last write expires and is lost (counted in `lost_batches` for batch records).
//!
//! Under memory pressure with a `volatile-*` policy these keys are eviction candidates like
//! cache entries: `volatile-ttl` evicts them last (their TTL is long), `volatile-lru`/`-lfu`
//! may evict a quiet entity's pending hash or a dirty set (its entities then wait for their
//! next write to be indexed again), and `volatile-random` any of them. Evicted changes are
//! lost silently. Give write-back a Redis with `noeviction` or ample headroom if every
//! increment matters.
//!
//! # Restarts
//!
//! Redis is the only copy of pending changes: with persistence off, a restart (or failover
//! to a replica that lagged) loses every change acknowledged to callers but not yet accepted
//! by the sink. It is detected, not hidden: each shard keeps a random epoch, recreated when
//! the shard's state is missing; when this process sees a shard's epoch change,
//! [`WriteBack::generation`] increases, `state_losses` counts it and a warning is logged. A
//! caller that noted the generation when it wrote can tell its write may be lost. Changes
//! written after the restart are unaffected. (A shard left without writes or flushes for
//! `pending_ttl` also gets a new epoch: its state expired, and with it anything pending.)
//! Writes fail while Redis is unreachable (the tier's breaker fails them fast); they are not
//! queued, since an acknowledgement must mean Redis holds the change.
//!
//! # Failover
//!
//! Replication is asynchronous, so a replica promoted to primary may lack the primary's last
//! commands. For a claim that would be dangerous: the claim emptied the live hashes on the
//! old primary only, the new primary still holds those changes and claims them again under
//! another batch id, and the sink, which deduplicates by id, would apply them twice.
//!
//! So **a batch goes to the sink only once the required replicas hold its claim**: every
//! claim script is followed by `WAIT <replicas> <replication_timeout>` on the same
//! connection (the write-back's own, so a waiting `WAIT` never blocks cache traffic). A claim
//! confirmed in time is delivered; one that is not (lag, replica down, connection lost) is
//! put back undelivered (counted in `unreplicated`) and retried later, when a new `WAIT`
//! covers it. Guarantee: **if the replica promoted holds every write the primary had
//! confirmed by `WAIT` — the required replicas include it (one replica, or
//! [`replicas`](WriteBackBuilder::replicas) = all of them), or the failover picks the most
//! up-to-date replica, as Sentinel and managed services do — no change reaches the sink
//! twice under two ids.** A delivered batch's claim is on the new primary, so its changes
//! are not live there and the batch itself is delivered again with the same id if its ack
//! was lost (the sink skips it); an undelivered claim the new primary lacks just leaves its
//! changes live, to be claimed afresh. Re-delivery under the same id remains possible, as
//! always. A batch id stays random: an id derived from the contents or from a per-shard
//! sequence would give a re-claim after a failover the id of a batch already applied while
//! holding other changes, which the sink would then skip, losing them.
//!
//! `replicas` defaults to the replicas the shard's primary reports *online* when the claim
//! runs (none on a lone server: nothing waits). That default cannot protect against a
//! replica that had already disconnected (or is still resyncing) and is then promoted; a
//! fixed `.replicas(n)` does, at the price of pausing the flush while fewer than `n` are
//! online.
//!
//! Increments are another matter: by default `Ok` means the primary holds the change, and
//! a failover before it reached a replica loses it (the bound of Redis replication; the
//! shard's epoch survives, so `generation` does not report it). With
//! [`replicated_writes`](WriteBackBuilder::replicated_writes) every write waits for the same
//! replicas: `Ok` then means the change survives a failover as above, and a write not
//! confirmed in time fails with [`Error::Timeout`] (it may or may not
//! survive). Either way, under the condition above, no change is applied twice; what a
//! failover can lose is a write the replicas had not confirmed (by default, any write).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod config;
mod flush;
mod flusher;
mod keys;
mod metrics;
mod replication;
mod report;
mod scripts;
mod writes;

pub use batch::{Batch, Changes, FieldValue, Sink, SinkError};
pub use config::{WriteBackBuilder, WriteBackConfig};
pub use flusher::FlusherHandle;
pub use metrics::WriteBackStats;
pub use report::{Backlog, FlushReport};

/// The error type of every fallible call: the Redis tier's, since write-back talks to the
/// same Redis through the same client.
pub use cache_redis::Error;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use cache_redis::RedisTier;
use cache_redis::client::Client;
use parking_lot::Mutex;

use keys::Shard;
use metrics::Metrics;

/// Write-back buffer in Redis for counters and last-writer-wins fields. Cheap to clone.
/// Built with [`WriteBack::builder`]; see the [crate documentation](crate).
#[derive(Clone)]
pub struct WriteBack {
    shared: Arc<Shared>,
}

struct Shared {
    /// The tier's client: every command goes through its breaker and timeouts.
    redis: Arc<Client>,
    config: WriteBackConfig,
    shards: Vec<Shard>,
    /// Last epoch seen per shard.
    epochs: Vec<Mutex<Option<String>>>,
    generation: AtomicU64,
    /// Shard a pass starts with (rotates, so a failing shard does not starve the others).
    next_shard: AtomicU64,
    metrics: Metrics,
    /// Own connection for script + `WAIT` pipelines.
    link: replication::Link,
    /// Replicas each shard's primary reported online last (`replication::UNKNOWN`).
    replicas_seen: Vec<AtomicUsize>,
}

impl WriteBack {
    /// Configures a write-back buffer called `name` (part of every key) on `tier`.
    pub fn builder(tier: &RedisTier, name: &str) -> WriteBackBuilder {
        WriteBackBuilder::new(tier, name)
    }

    fn from_parts(
        tier: &RedisTier,
        config: WriteBackConfig,
        meter: Option<&opentelemetry::metrics::Meter>,
    ) -> WriteBack {
        let shards: Vec<Shard> = (0..config.shards)
            .map(|i| Shard::new(&config.key_prefix, &config.name, i))
            .collect();
        WriteBack {
            shared: Arc::new(Shared {
                redis: Arc::clone(tier.client()),
                epochs: shards.iter().map(|_| Mutex::new(None)).collect(),
                metrics: Metrics::new(meter, &config.name, shards.len()),
                generation: AtomicU64::new(0),
                next_shard: AtomicU64::new(0),
                link: replication::Link::default(),
                replicas_seen: shards
                    .iter()
                    .map(|_| AtomicUsize::new(replication::UNKNOWN))
                    .collect(),
                shards,
                config,
            }),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &WriteBackConfig {
        &self.shared.config
    }

    /// How many times this process found that Redis lost pending changes (a shard's epoch
    /// changed). Compare values taken before and after a write to learn whether it may have
    /// been lost before reaching the sink.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Relaxed)
    }

    /// Counters and last-seen backlog figures (see [`WriteBackStats`]).
    pub fn stats(&self) -> WriteBackStats {
        self.shared.metrics.snapshot()
    }

    fn shard(&self, entity: &str) -> (usize, &Shard) {
        let index = keys::shard_of(entity, self.shared.shards.len());
        (index, &self.shared.shards[index])
    }

    /// Records the epoch a script reported for shard `index`.
    fn observe_epoch(&self, index: usize, epoch: &str) {
        let mut seen = self.shared.epochs[index].lock();
        match seen.as_deref() {
            Some(known) if known == epoch => {}
            Some(_) => {
                *seen = Some(epoch.to_string());
                drop(seen);
                self.shared.generation.fetch_add(1, Relaxed);
                self.shared.metrics.lost("state");
                tracing::warn!(
                    write_back = %self.shared.config.name,
                    shard = index,
                    "write-back state was recreated in Redis: changes not yet flushed are lost"
                );
            }
            None => *seen = Some(epoch.to_string()),
        }
    }
}

/// Milliseconds for `PX`/`PEXPIRE` and script TTL arguments, at least 1.
fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl fmt::Debug for WriteBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteBack")
            .field("config", &self.shared.config)
            .field("generation", &self.generation())
            .field("stats", &self.stats())
            .finish()
    }
}
