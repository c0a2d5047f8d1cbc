//! The hit path of a `#[cached]` call: a fresh value from the request or local tier is found
//! with the key written into a reused buffer, so a hit allocates no key.

use std::cell::RefCell;

use super::bounds::CachedValue;
use crate::key::{KeyDraft, KeyHead};
use crate::{Cache, CacheKey, KeyPart, MAX_KEY_LEN, Options};

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
    /// `escape(name)[@version]`, written once per function.
    pub head: &'a KeyHead,
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
        head,
    } = probe;
    let Some(hit) = hit else {
        return Probe::Miss(CacheKey::with_schema(name, version, parts));
    };
    let probed = KEY_TEXT.try_with(|cell| {
        // Borrowed already when a key part or a clone calls a cached function itself.
        let mut text = cell.try_borrow_mut().ok()?;
        text.clear();
        let draft = KeyDraft::write(&mut text, head, parts);
        if text.len() <= MAX_KEY_LEN
            && let Some(value) = hit(cache, &text, name, opts)
        {
            return Some(Probe::Hit(value));
        }
        let key = draft.finish(head, &text);
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
