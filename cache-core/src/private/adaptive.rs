//! The entry points of a `#[cached(adapt = f)]` call's full path: the same shapes as
//! [`load`](super::load), with `f` turning each loaded value into an [`Entry`] that decides
//! how it is cached, over [`Cache::get_or_load_entry`] and its sync twin.

use std::future::Future;

use super::bounds::{CachedValue, SharedError};
use super::load::{Infallible, NoneReturned};
use crate::entry::with_none_ttl;
use crate::{Cache, CacheKey, Entry, Options};

/// `adapt` as the decider of a function caching `T`: a decider of another type is reported
/// once, at `adapt = …`, and not again at the function (the result's type names `T`).
#[inline(always)]
pub fn adapt_for<T>(adapt: fn(T) -> Entry<T>) -> fn(T) -> Entry<T> {
    adapt
}

/// `Result<T, E>`: `adapt` decides for `Ok`, `Err` is not cached.
#[inline]
pub async fn load_result_adaptive<T, E, A, F, Fut>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> Result<T, E>
where
    T: CachedValue,
    E: SharedError,
    A: FnOnce(T) -> Entry<T>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let load = || async move { load().await.map(adapt) };
    cache.get_or_load_entry(key, opts, load).await
}

/// `Option<T>`: `adapt` decides for `Some`, `None` is not cached.
#[inline]
pub async fn load_option_adaptive<T, A, F, Fut>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> Option<T>
where
    T: CachedValue,
    A: FnOnce(T) -> Entry<T>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let load = || async move { load().await.map(adapt).ok_or(NoneReturned) };
    cache.get_or_load_entry(key, opts, load).await.ok()
}

/// Any other `T`: `adapt` decides for every value.
#[inline]
pub async fn load_value_adaptive<T, A, F, Fut>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> T
where
    T: CachedValue,
    A: FnOnce(T) -> Entry<T>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = T>,
{
    let load = || async move { Ok::<_, Infallible>(adapt(load().await)) };
    match cache.get_or_load_entry(key, opts, load).await {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// `Option<T>` with `none_ttl`: `adapt` decides for the whole `Option`; a `None` whose entry
/// sets no TTL lives `none_ttl`.
#[inline]
pub async fn load_option_none_ttl_adaptive<T, A, F, Fut>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> Option<T>
where
    T: CachedValue,
    A: FnOnce(Option<T>) -> Entry<Option<T>>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let none_ttl = opts.none_ttl_value();
    let load = || async move { Ok::<_, Infallible>(with_none_ttl(adapt(load().await), none_ttl)) };
    match cache.get_or_load_entry(key, opts, load).await {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// `Result<Option<T>, E>` with `none_ttl`: as [`load_option_none_ttl_adaptive`] for `Ok`.
#[inline]
pub async fn load_result_none_ttl_adaptive<T, E, A, F, Fut>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> Result<Option<T>, E>
where
    T: CachedValue,
    E: SharedError,
    A: FnOnce(Option<T>) -> Entry<Option<T>>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
{
    let none_ttl = opts.none_ttl_value();
    let load = || async move {
        load()
            .await
            .map(|found| with_none_ttl(adapt(found), none_ttl))
    };
    cache.get_or_load_entry(key, opts, load).await
}

/// Sync [`load_result_adaptive`].
#[inline]
pub fn load_result_adaptive_sync<T, E, A, F>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> Result<T, E>
where
    T: CachedValue,
    E: SharedError,
    A: FnOnce(T) -> Entry<T>,
    F: FnOnce() -> Result<T, E>,
{
    cache.get_or_load_entry_sync(key, opts, || load().map(adapt))
}

/// Sync [`load_option_adaptive`].
#[inline]
pub fn load_option_adaptive_sync<T, A, F>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> Option<T>
where
    T: CachedValue,
    A: FnOnce(T) -> Entry<T>,
    F: FnOnce() -> Option<T>,
{
    let load = || load().map(adapt).ok_or(NoneReturned);
    cache.get_or_load_entry_sync(key, opts, load).ok()
}

/// Sync [`load_value_adaptive`].
#[inline]
pub fn load_value_adaptive_sync<T, A, F>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> T
where
    T: CachedValue,
    A: FnOnce(T) -> Entry<T>,
    F: FnOnce() -> T,
{
    match cache.get_or_load_entry_sync(key, opts, || Ok::<_, Infallible>(adapt(load()))) {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// Sync [`load_option_none_ttl_adaptive`].
#[inline]
pub fn load_option_none_ttl_adaptive_sync<T, A, F>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> Option<T>
where
    T: CachedValue,
    A: FnOnce(Option<T>) -> Entry<Option<T>>,
    F: FnOnce() -> Option<T>,
{
    let none_ttl = opts.none_ttl_value();
    let load = || Ok::<_, Infallible>(with_none_ttl(adapt(load()), none_ttl));
    match cache.get_or_load_entry_sync(key, opts, load) {
        Ok(value) => value,
        Err(never) => match never {},
    }
}

/// Sync [`load_result_none_ttl_adaptive`].
#[inline]
pub fn load_result_none_ttl_adaptive_sync<T, E, A, F>(
    cache: &Cache,
    key: &CacheKey,
    opts: &Options,
    adapt: A,
    load: F,
) -> Result<Option<T>, E>
where
    T: CachedValue,
    E: SharedError,
    A: FnOnce(Option<T>) -> Entry<Option<T>>,
    F: FnOnce() -> Result<Option<T>, E>,
{
    let none_ttl = opts.none_ttl_value();
    let load = || load().map(|found| with_none_ttl(adapt(found), none_ttl));
    cache.get_or_load_entry_sync(key, opts, load)
}
