//! Turning `#[cached]` arguments and `key = …` expressions into key parts.

use super::bounds::KeyArg;
use super::probe::{Probe, ProbeArgs, probe_parts};
use crate::{CacheKey, KeyPart};

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
