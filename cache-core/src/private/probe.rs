//! Items used by code that `cache-macros` generates. Not a public API: names and signatures
//! change without notice. Generated code refers only to `::cache_core::__private::…`.
//!
//! `#[cached]` functions come in three shapes, chosen from the written return type:
//! `Result<T, E>` (only `Ok` is cached, `E` goes back to the caller), `Option<T>` (only `Some`
//! is cached unless `cache_none = true`) and any other `T`. Each shape has an async and a sync
//! entry point below; they are thin adapters over [`Cache::get_or_load`] and
//! [`Cache::get_or_load_sync`].

use std::cell::RefCell;
use std::future::Future;

use crate::MAX_KEY_LEN;
use crate::key::KeyDraft;

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

    /// [`probe_parts`] for a key that already exists.
    fn probe_for<T>(&self, probe: ProbeArgs<'_, T>) -> Probe<T>;
}

impl KeyIsCacheKey for KeyProbe<'_, CacheKey> {
    #[inline]
    fn cache_key_for(&self, _name: &str, version: u32) -> CacheKey {
        self.0.clone().with_schema_version(version)
    }

    #[inline]
    fn probe_for<T>(&self, probe: ProbeArgs<'_, T>) -> Probe<T> {
        let key = self.cache_key_for(probe.name, probe.version);
        let found = probe
            .hit
            .and_then(|hit| hit(probe.cache, key.as_str(), key.cache_name(), probe.opts));
        match found {
            Some(value) => Probe::Hit(value),
            None => Probe::Miss(key),
        }
    }
}

/// `key = <any KeyPart>`: the parts of a key named after the function.
pub trait KeyFromParts {
    /// `name[@version]:parts`.
    fn cache_key_for(&self, name: &str, version: u32) -> CacheKey;

    /// [`probe_parts`] with these parts.
    fn probe_for<V>(&self, probe: ProbeArgs<'_, V>) -> Probe<V>;
}

impl<T: KeyArg> KeyFromParts for &KeyProbe<'_, T> {
    #[inline]
    fn cache_key_for(&self, name: &str, version: u32) -> CacheKey {
        CacheKey::with_schema(name, version, &(key_part(self.0),))
    }

    #[inline]
    fn probe_for<V>(&self, probe: ProbeArgs<'_, V>) -> Probe<V> {
        probe_parts(probe, &(key_part(self.0),))
    }
}

/// The engine's hit-only lookup for one value type: `(cache, key text, cache name, options)`.
pub type HitFn<T> = fn(&Cache, &str, &str, &Options) -> Option<T>;

/// Picks the hit path for the value type `T` of a `#[cached]` function by autoref
/// specialisation: `(&ProbeFor::<T>::new()).hit_fn()` is `Some` when `T` can be cached and
/// `None` otherwise — without an error of its own, so a type that cannot be cached is reported
/// once, by the load call, with the readable message.
pub struct ProbeFor<T>(core::marker::PhantomData<fn() -> T>);

impl<T> ProbeFor<T> {
    /// The selector.
    #[allow(clippy::new_without_default)]
    pub fn new() -> ProbeFor<T> {
        ProbeFor(core::marker::PhantomData)
    }
}

/// The hit path of a cacheable `T`.
pub trait ProbeCacheable<T> {
    /// `Some`: hits are looked up before the key is built.
    fn hit_fn(&self) -> Option<HitFn<T>>;
}

// `(&ProbeFor::<T>::new()).hit_fn()`: the receiver is `&ProbeFor<T>`, which is exactly this
// impl's `&self`, so it wins when it applies; the fallback's `&self` is `&&ProbeFor<T>` and is
// only reached by auto-referencing.
impl<T: CachedValue> ProbeCacheable<T> for ProbeFor<T> {
    #[inline(always)]
    fn hit_fn(&self) -> Option<HitFn<T>> {
        Some(|cache, key_text, name, opts| cache.hit_by_text(key_text, name, opts))
    }
}

/// The fallback for any other `T` (the load call reports why it cannot be cached).
pub trait ProbeUncacheable<T> {
    /// `None`: no hit path.
    fn hit_fn(&self) -> Option<HitFn<T>>;
}

impl<T> ProbeUncacheable<T> for &ProbeFor<T> {
    #[inline(always)]
    fn hit_fn(&self) -> Option<HitFn<T>> {
        None
    }
}

/// Everything the hit path of one `#[cached]` call needs besides its key parts.
pub struct ProbeArgs<'a, T> {
    /// From [`ProbeFor`]: `None` when `T` cannot be cached (then there is no hit path).
    pub hit: Option<HitFn<T>>,
    /// The cache the function uses.
    pub cache: &'a Cache,
    /// The function's options.
    pub opts: &'a Options,
    /// The cache name.
    pub name: &'a str,
    /// The schema version.
    pub version: u32,
}

/// What the hit path of a `#[cached]` call found: the value, or the key for the full path.
pub enum Probe<T> {
    /// A fresh value from the request or local tier.
    Hit(T),
    /// Anything else; the key is built.
    Miss(CacheKey),
}

thread_local! {
    /// Where the hit path writes key texts, so a hit allocates no key.
    static KEY_TEXT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A key text buffer that grew beyond this is not kept for the next call.
const KEY_TEXT_KEEP: usize = 4 * MAX_KEY_LEN;

/// The hit path of a `#[cached]` call: writes the key `name[@version]:parts` into a reused
/// buffer and asks `hit` (see [`ProbeFor`]); only when that misses is the key allocated.
#[inline]
pub fn probe_parts<T>(probe: ProbeArgs<'_, T>, parts: &(impl KeyPart + ?Sized)) -> Probe<T> {
    let ProbeArgs {
        hit,
        cache,
        opts,
        name,
        version,
    } = probe;
    let Some(hit) = hit else {
        return Probe::Miss(CacheKey::with_schema(name, version, parts));
    };
    let probed = KEY_TEXT.try_with(|cell| {
        // Borrowed already when a key part or a clone calls a cached function itself.
        let mut text = cell.try_borrow_mut().ok()?;
        text.clear();
        let draft = KeyDraft::write(&mut text, name, version, parts);
        if text.len() <= MAX_KEY_LEN
            && let Some(value) = hit(cache, &text, name, opts)
        {
            return Some(Probe::Hit(value));
        }
        let key = draft.finish(name, version, &text);
        if text.capacity() > KEY_TEXT_KEEP {
            *text = String::new();
        }
        Some(Probe::Miss(key))
    });
    match probed {
        Ok(Some(probe)) => probe,
        _ => Probe::Miss(CacheKey::with_schema(name, version, parts)),
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

#[cfg(test)]
mod tests {
    use super::*;

    struct NotCacheable;

    #[test]
    // The borrow is the point: it is what the macro writes, and what picks the impl.
    #[allow(clippy::needless_borrow)]
    fn the_hit_path_is_picked_exactly_for_cacheable_types() {
        #[allow(unused_imports)]
        use super::{ProbeCacheable as _, ProbeUncacheable as _};
        assert!((&ProbeFor::<u32>::new()).hit_fn().is_some());
        assert!((&ProbeFor::<Vec<String>>::new()).hit_fn().is_some());
        assert!((&ProbeFor::<NotCacheable>::new()).hit_fn().is_none());
    }
}
