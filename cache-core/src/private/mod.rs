//! Items used by code that `cache-macros` generates. Not a public API: names and signatures
//! change without notice.
//!
//! Generated code reaches these items only through the versioned module
//! `cache_core::__private_<major>_<minor>_<patch>` that `lib.rs` re-exports them as. The macros
//! build that name from their own version, so a `cache-macros` of another version than this
//! `cache-core` finds no such module and fails to compile, naming the version it expected.
//!
//! `#[cached]` functions come in three shapes, chosen from the written return type:
//! `Result<T, E>` (only `Ok` is cached, `E` goes back to the caller), `Option<T>` (only `Some`
//! is cached unless `cache_none = true`) and any other `T`; with `none_ttl`, `Option<T>` and
//! `Result<Option<T>, E>` also cache `None`, for that long (the `*_none_ttl` entry points). Each
//! shape has an async and a sync entry point in [`load`]; the key is built in [`key`], and a hit
//! is looked up before the key is allocated in [`probe`]. `#[cached(batch)]` functions go
//! through [`batch`]. The traits in [`bounds`] carry the readable error messages.

mod adaptive;
mod batch;
mod bounds;
mod key;
mod load;
mod probe;

pub use core::any::type_name;
pub use core::time::Duration;
pub use std::sync::LazyLock;

pub use crate::key::KeyHead;
pub use crate::{
    Cache, CacheKey, Cacheable, Entry, KeyPart, KeyWriter, Options, Tiers, VersionStamp, global,
    global::global_ref,
};

pub use adaptive::{
    adapt_for, load_option_adaptive, load_option_adaptive_sync, load_option_none_ttl_adaptive,
    load_option_none_ttl_adaptive_sync, load_result_adaptive, load_result_adaptive_sync,
    load_result_none_ttl_adaptive, load_result_none_ttl_adaptive_sync, load_value_adaptive,
    load_value_adaptive_sync,
};
pub use batch::{load_batch, load_batch_value};
pub use bounds::{CachedValue, KeyArg, SharedError};
pub use key::{KeyFromParts, KeyIsCacheKey, KeyProbe, key_part};
pub use load::{
    Infallible, NoneReturned, load_option, load_option_none_ttl, load_option_none_ttl_sync,
    load_option_sync, load_result, load_result_none_ttl, load_result_none_ttl_sync,
    load_result_sync, load_value, load_value_sync,
};
pub use probe::{HitFn, Probe, ProbeArgs, ProbeCacheable, ProbeFor, ProbeUncacheable, probe_parts};

/// An owned handle to the cache named by `cache = …`, for expressions that borrow arguments.
#[inline(always)]
pub fn owned_cache(cache: &Cache) -> Cache {
    cache.clone()
}

/// One `tags = [..]` element as `&str`, so literals and `format!` results can be mixed.
#[inline(always)]
pub fn tag<S: AsRef<str> + ?Sized>(tag: &S) -> &str {
    tag.as_ref()
}
