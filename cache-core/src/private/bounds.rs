//! The bounds generated code puts on the user's types, each a trait of its own so that a type
//! that does not qualify is reported with a message about `#[cached]`, not about the engine.

use crate::{Cacheable, KeyPart};

/// The error of a `Result`-returning `#[cached]` function. The engine hands one load's outcome
/// to every caller waiting for the same key, so the error must be cloneable and shareable.
#[diagnostic::on_unimplemented(
    message = "`#[cached]` shares one load's error with every caller waiting for it, so `{Self}` must be Clone + Send + Sync + 'static",
    label = "this error type is not Clone + Send + Sync + 'static",
    note = "wrap the error in `std::sync::Arc` (e.g. `Result<T, Arc<MyError>>`) or derive `Clone` for it"
)]
pub trait SharedError: Clone + Send + Sync + 'static {}

impl<E: Clone + Send + Sync + 'static> SharedError for E {}

/// A value a `#[cached]` function stores in the cache.
#[diagnostic::on_unimplemented(
    message = "`#[cached]` stores `{Self}` in the cache, so it must be Serialize + DeserializeOwned + Clone + Send + Sync + 'static",
    label = "this type cannot be cached",
    note = "derive `Clone`, `serde::Serialize` and `serde::Deserialize` for it"
)]
pub trait CachedValue: Cacheable {}

impl<T: Cacheable> CachedValue for T {}

/// A value used as (a part of) a `#[cached]` key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of a cache key: it does not implement `KeyPart`",
    label = "used in the cache key here",
    note = "implement `cache_core::KeyPart` (or `#[derive(CacheKey)]`) for it, mark the argument `#[cache(skip)]`, or pick what identifies it with `key = …`"
)]
pub trait KeyArg: KeyPart {}

impl<T: KeyPart + ?Sized> KeyArg for T {}
