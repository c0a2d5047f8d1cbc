//! The entry points of a `#[cached]` call's full path, one per shape (`Result`, `Option`,
//! plain value) and flavour (async, sync): thin adapters over [`Cache::get_or_load`] and
//! [`Cache::get_or_load_sync`].

use std::future::Future;

use super::bounds::{CachedValue, SharedError};
use crate::{Cache, CacheKey, Options};

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

/// `Option<T>` with `none_ttl`: caches `Some`, and `None` for `none_ttl`.
#[inline]
pub async fn load_option_none_ttl<T, F, Fut>(
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
    let load = || async move { Ok::<_, Infallible>(load().await) };
    match cache.get_or_load_option(key, opts, load).await {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// `Result<Option<T>, E>` with `none_ttl`: caches `Ok(Some)`, and `Ok(None)` for `none_ttl`.
#[inline]
pub async fn load_result_none_ttl<T, E, F, Fut>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    load: F,
) -> Result<Option<T>, E>
where
    T: CachedValue,
    E: SharedError,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    cache.get_or_load_option(key, opts, load).await
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

/// Sync [`load_option_none_ttl`].
#[inline]
pub fn load_option_none_ttl_sync<T, F>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    load: F,
) -> Option<T>
where
    T: CachedValue,
    F: FnOnce() -> Option<T>,
{
    let load = || Ok::<_, Infallible>(load());
    match cache.get_or_load_option_sync(key, opts, load) {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// Sync [`load_result_none_ttl`].
#[inline]
pub fn load_result_none_ttl_sync<T, E, F>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    load: F,
) -> Result<Option<T>, E>
where
    T: CachedValue,
    E: SharedError,
    F: FnOnce() -> Result<Option<T>, E>,
{
    cache.get_or_load_option_sync(key, opts, load)
}
