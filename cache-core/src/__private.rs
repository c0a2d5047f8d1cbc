//! Items used by code that `cache-macros` generates. Not a public API: names and signatures
//! change without notice. Generated code refers only to `::cache_core::__private::…`.
//!
//! `#[cached]` functions come in three shapes, chosen from the written return type:
//! `Result<T, E>` (only `Ok` is cached, `E` goes back to the caller), `Option<T>` (only `Some`
//! is cached unless `cache_none = true`) and any other `T`. Each shape has an async and a sync
//! entry point below; they are thin adapters over [`Cache::get_or_load`] and
//! [`Cache::get_or_load_sync`].

use std::future::Future;

pub use core::any::type_name;
pub use core::time::Duration;
pub use std::sync::LazyLock;

pub use crate::{
    Cache, CacheKey, Cacheable, KeyPart, KeyWriter, Options, Tiers, VersionStamp, global,
    global::global_ref,
};

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

/// Checks, with a readable error, that `part` can be written into a key. The result is a
/// `dyn KeyPart`, so a part that is not `KeyPart` is reported once, here, and not again for
/// the tuple of all parts.
#[inline(always)]
pub fn key_part<T: KeyArg>(part: &T) -> &dyn KeyPart {
    part
}

/// Wraps the value of `key = …` so method resolution can pick how to turn it into a key.
pub struct KeyProbe<'a, T: ?Sized>(pub &'a T);

/// `key = <a CacheKey>` (e.g. `CacheKey::collection(..)` or `store.cache_key()`): used as it is,
/// so versioned and collection keys keep their Rails-style text. Found before
/// [`KeyFromParts`] because it needs no auto-reference.
pub trait KeyIsCacheKey {
    /// The key, tagged with the function's schema version.
    fn cache_key_for(&self, name: &str, version: u32) -> CacheKey;
}

impl KeyIsCacheKey for KeyProbe<'_, CacheKey> {
    #[inline]
    fn cache_key_for(&self, _name: &str, version: u32) -> CacheKey {
        self.0.clone().with_schema_version(version)
    }
}

/// `key = <any KeyPart>`: the parts of a key named after the function.
pub trait KeyFromParts {
    /// `name[@version]:parts`.
    fn cache_key_for(&self, name: &str, version: u32) -> CacheKey;
}

impl<T: KeyArg> KeyFromParts for &KeyProbe<'_, T> {
    #[inline]
    fn cache_key_for(&self, name: &str, version: u32) -> CacheKey {
        CacheKey::with_schema(name, version, &(key_part(self.0),))
    }
}

/// An owned handle to the cache named by `cache = …`, for expressions that borrow arguments.
#[inline(always)]
pub fn owned_cache(cache: &Cache) -> Cache {
    cache.clone()
}

/// The loader of an `Option` function returned `None`, which is not cached by default.
#[derive(Clone, Copy, Debug)]
pub struct NoneReturned;

/// The loader of a plain-`T` function cannot fail.
#[derive(Clone, Copy, Debug)]
pub enum Infallible {}

/// `Result<T, E>`: caches `Ok`, returns `Err` uncached.
#[inline]
pub async fn load_result<T, E, F, Fut>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    load: F,
) -> Result<T, E>
where
    T: CachedValue,
    E: SharedError,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    cache.get_or_load(key, opts, load).await
}

/// `Option<T>`: caches `Some`, returns `None` uncached.
#[inline]
pub async fn load_option<T, F, Fut>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    load: F,
) -> Option<T>
where
    T: CachedValue,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let load = || async move { load().await.ok_or(NoneReturned) };
    cache.get_or_load(key, opts, load).await.ok()
}

/// Any other `T` (including `Option<T>` with `cache_none = true`): always cached.
#[inline]
pub async fn load_value<T, F, Fut>(cache: &Cache, key: &CacheKey, opts: &Options, load: F) -> T
where
    T: CachedValue,
    F: FnOnce() -> Fut,
    Fut: Future<Output = T>,
{
    let load = || async move { Ok::<T, Infallible>(load().await) };
    match cache.get_or_load(key, opts, load).await {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// Sync [`load_result`].
#[inline]
pub fn load_result_sync<T, E, F>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    load: F,
) -> Result<T, E>
where
    T: CachedValue,
    E: SharedError,
    F: FnOnce() -> Result<T, E>,
{
    cache.get_or_load_sync(key, opts, load)
}

/// Sync [`load_option`].
#[inline]
pub fn load_option_sync<T, F>(cache: &Cache, key: &CacheKey, opts: &Options, load: F) -> Option<T>
where
    T: CachedValue,
    F: FnOnce() -> Option<T>,
{
    cache
        .get_or_load_sync(key, opts, || load().ok_or(NoneReturned))
        .ok()
}

/// Sync [`load_value`].
#[inline]
pub fn load_value_sync<T, F>(cache: &Cache, key: &CacheKey, opts: &Options, load: F) -> T
where
    T: CachedValue,
    F: FnOnce() -> T,
{
    match cache.get_or_load_sync(key, opts, || Ok::<T, Infallible>(load())) {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// One `tags = [..]` element as `&str`, so literals and `format!` results can be mixed.
#[inline(always)]
pub fn tag<S: AsRef<str> + ?Sized>(tag: &S) -> &str {
    tag.as_ref()
}
