//! Redis tier for `cache-core`: [`RedisTier`] implements [`cache_core::RemoteTier`] on a single
//! Redis server or a Redis Cluster.
//!
//! ```no_run
//! use cache_core::{Cache, LocalTier};
//! use cache_redis::RedisTier;
//!
//! # async fn run() -> Result<(), cache_redis::Error> {
//! let redis = RedisTier::connect("redis://127.0.0.1:6379/0").await?;
//! let cache = Cache::builder()
//!     .namespace("shop")
//!     .local(LocalTier::new(64 << 20))
//!     .remote(redis.clone())
//!     .build();
//! assert!(redis.health().maxmemory_policy_warning.is_none());
//! # let _ = cache; Ok(()) }
//! ```
//!
//! # What goes to Redis
//!
//! | operation | commands | round trips (single node) |
//! |---|---|---|
//! | `get` / `read` | `GET` | 1 |
//! | `get_many` / `read_many` | one `MGET` (Cluster: one `MGET` per slot, sent concurrently) | 1 |
//! | `set` / `write` without tags | `SET key <head><value> PX ttl` | 1 |
//! | `set` / `write` with tags | one Lua script: `SET … PX`, `SADD` + `PEXPIRE` per tag set | 1 |
//! | `fill` (a load's result) | one Lua script: `GETRANGE` head, compare, `SET … PX`, tags | 1 |
//! | `delete` | `UNLINK` | 1 |
//! | `try_lease` | one Lua script: `GETRANGE`, `SET key <lease head> PX ttl` if absent, tags | 1 |
//! | `release_lease` | Lua compare-and-`UNLINK` | 1 |
//! | `publish` | `PUBLISH <channel> <frame>` | 1 |
//! | `invalidate_tag` | one Lua script: `SMEMBERS`, `UNLINK` members and set | 1 |
//!
//! Every key written gets a TTL (tag sets too: at least the TTL of their newest entry); every
//! delete is an `UNLINK`; every command is bounded by the command timeout (default 250 ms).
//!
//! # Design choices
//!
//! * **Fencing** ([`fenced`]): every value carries the token of its write, and a stampede lease
//!   is a token stored under the entry's own key, so one key (one Cluster slot) holds all a
//!   fill must check: a fill lands only while the lease or entry it started from is still
//!   there. Invalidations, writes, tag invalidations, lease expiry and restarts void it.
//! * **Tags** are sets `<tag_prefix><tag>` (default `tag:`) of the keys written with the tag,
//!   see [`tags`] for the single-node (atomic) and Cluster (documented window)
//!   variants.
//! * **Backplane**: `PUBLISH` on the configured channel (default `cache:invalidate`) of a small
//!   text frame `1|<kind>|<origin node id>|<key or tag>`; see [`backplane`].
//!   On a Cluster a `PUBLISH` reaches every node, so the subscriber listens on one node (the
//!   first one that answers) and moves to the next when that node goes away. After any
//!   reconnection the listeners receive [`RemoteEvent::Clear`](cache_core::RemoteEvent::Clear)
//!   (a cache then also re-reads its namespace generation, in case it missed a `clear`).
//! * **Clear**: `Cache::clear` is one `HINCRBY` of the namespace's counter hash
//!   `<namespace>:@gen` (field `n`, no TTL) and one `G` frame on the backplane; see
//!   [`cache_core::Cache::clear`].
//! * **Faults**: a circuit breaker ([`Health`]) fails fast while Redis is down; writes and
//!   invalidations that fail meanwhile are queued (bounded, newest per key wins) and replayed
//!   and re-announced once Redis answers again. Error replies that mean "not now" (`LOADING`,
//!   `BUSY`, `READONLY`, `MASTERDOWN`, …) count as an outage too, so an invalidation refused
//!   during a failover is replayed, not lost; `NOPERM` is an [`Error::Permission`], logged as
//!   an error. [`RedisTier::connect`] fails if the user may not run a command the tier needs.
//!
//! # Layers
//!
//! The tier is built bottom-up; each part owns its state and calls only the parts below it:
//!
//! | layer | owns |
//! |---|---|
//! | [`client::Client`] | the connection, circuit breaker, timeouts, password scrubbing, error classification |
//! | tag sets ([`tags`]) | the tag-set prefix and the scripts that index and invalidate |
//! | [`backplane`] | the channel, its frames, the subscriber and its watchdog, the listeners |
//! | recovery | the queue of changes refused during an outage, and their replay |
//! | fenced writes | write tokens, writes, leases and fills ([`fenced`]) |
//! | [`flags`] | the flag tables attached to Redis hashes |
//! | [`RedisTier`] | all of the above, behind [`cache_core::RemoteTier`] |
//!
//! Write-back (counters and fields buffered in Redis and flushed to a database in batches)
//! lives in the `cache-writeback` crate, on top of [`client::Client`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backplane;
pub mod client;
mod error;
pub mod fenced;
pub mod flags;
mod health;
mod invalidation;
mod leases;
mod listeners;
mod reconnect;
mod recovery;
pub mod tags;
mod tier;
mod tracking;
mod trust;

#[cfg(feature = "test-support")]
pub mod test_support;

pub use client::{RedisConfig, RedisUrl};
pub use error::Error;
pub use health::{BreakerState, Health, RedisStats};
pub use invalidation::Invalidation;
pub use tier::{RedisTier, RedisTierBuilder};
