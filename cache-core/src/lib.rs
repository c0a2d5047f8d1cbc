//! A multi-tier application cache: a request tier, a local in-memory tier (moka) and an optional
//! shared remote tier (Redis, from the `cache-redis` crate) behind one call.
//!
//! A read goes feature flag → request tier → local tier → remote tier → single-flight load, and a
//! hit backfills every tier above the one that answered. Entries carry a fresh window (`ttl`) and
//! a stale window (`stale`): inside the stale window one caller refreshes while everyone else is
//! served the stale value at once (Rails' `race_condition_ttl`), and a failing loader falls back
//! to the stale value (fail-safe).
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use cache_core::{Cache, CacheKey, LocalTier, Options};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let cache = Cache::builder()
//!     .namespace("app")
//!     .local(LocalTier::new(64 * 1024 * 1024))
//!     .build();
//! let opts = Options::new().ttl(Duration::from_secs(600)).stale(Duration::from_secs(3600));
//! let key = CacheKey::new("chain_stores", &42_i64);
//!
//! let first: Result<Vec<String>, String> =
//!     cache.get_or_load(&key, &opts, || async { Ok(vec!["store 1".to_string()]) }).await;
//! // The second call is served from the local tier; the loader is not called.
//! let second: Result<Vec<String>, String> =
//!     cache.get_or_load(&key, &opts, || async { unreachable!("cached") }).await;
//! assert_eq!(first, second);
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod clock;
pub mod codec;
mod counters;
mod engine;
mod error;
pub mod flags;
pub(crate) mod global;
pub mod key;
pub mod metrics;
mod options;
mod stats;
pub mod tier;

#[doc(hidden)]
pub mod __private;

#[cfg(feature = "macros")]
pub use cache_macros::{CacheKey, cached};
pub use codec::{Codec, CodecConfig, EntryMeta};
pub use engine::{Cache, CacheBuilder, LoadError};
pub use error::{Error, Result};
pub use flags::{FlagLayer, FlagMode, FlagSource, Flags};
pub use global::{global, install, try_global};
pub use key::{CacheKey, KeyPart, KeyWriter, MAX_KEY_LEN, Micros, VersionStamp};
pub use options::{Options, Tiers};
pub use stats::{StatsSnapshot, TierName};
pub use tier::local::LocalTier;
pub use tier::remote::{Fence, Lease, RemoteEvent, RemoteListener, RemoteTier, Stored, Token};
pub use tier::request::{in_request_scope, request_scope};
#[cfg(feature = "tower")]
pub use tier::scope_layer::{RequestScopeLayer, RequestScopeService};

/// A value that can be cached: serializable for the remote tier, cloneable for the local tiers.
///
/// Implemented automatically for every type that qualifies; you never implement it by hand.
///
/// ```
/// fn assert_cacheable<T: cache_core::Cacheable>() {}
/// assert_cacheable::<Vec<(String, i64)>>();
/// ```
pub trait Cacheable:
    serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
}

impl<T> Cacheable for T where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
}
