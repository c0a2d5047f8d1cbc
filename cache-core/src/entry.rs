//! Adaptive entries: what a loader decides about the value it just loaded — how long it is
//! fresh, how long it may be served stale, which tags it carries, or that it is not cached.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::Options;

/// A loaded value plus the loader's decisions about caching it, for
/// [`Cache::get_or_load_entry`](crate::Cache::get_or_load_entry).
///
/// Every decision overrides the call's [`Options`] for this one entry only; what the loader
/// does not decide comes from the options. A TTL decided here is used as given, without the
/// options' jitter: the loader knows the lifetime (an upstream `max-age`, a token's expiry),
/// and jitter could keep the entry past it. Tags decided here are added to the options' tags.
///
/// ```
/// use std::time::Duration;
/// use cache_core::Entry;
/// let entry = Entry::new("rates").ttl(Duration::from_secs(60)).tags(["fx"]);
/// assert_eq!(entry.ttl_value(), Some(Duration::from_secs(60)));
/// assert!(entry.is_cached());
/// assert!(!Entry::skip("partial").is_cached());
/// assert_eq!(Entry::skip("partial").into_value(), "partial");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<T> {
    value: T,
    ttl: Option<Duration>,
    stale: Option<Duration>,
    tags: Vec<Arc<str>>,
    cached: bool,
}

impl<T> Entry<T> {
    /// `value`, cached as the call's options say.
    pub fn new(value: T) -> Entry<T> {
        Entry {
            value,
            ttl: None,
            stale: None,
            tags: Vec::new(),
            cached: true,
        }
    }

    /// `value`, returned to the caller and to callers waiting on the same load, but stored in
    /// no tier: the next call loads again (Rails `skip_nil`, a partial or degraded answer).
    pub fn skip(value: T) -> Entry<T> {
        Entry::new(value).uncached()
    }

    /// Fresh for exactly `ttl` (no jitter), in every tier.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Entry<T> {
        self.ttl = Some(ttl);
        self
    }

    /// Served stale for `stale` after it expires while one caller refreshes it; zero disables
    /// serving it stale.
    #[must_use]
    pub fn stale(mut self, stale: Duration) -> Entry<T> {
        self.stale = Some(stale);
        self
    }

    /// Tags added to the options' tags for this entry.
    ///
    /// On a Redis Cluster the options' tags are indexed before the load's lease is taken, so
    /// an [`invalidate_tag`](crate::Cache::invalidate_tag) that runs while the load is in
    /// flight voids its fill. Tags known only after the load are indexed when the value is
    /// written: an invalidation of such a tag that ran during the load does not void the
    /// value (on this node it does: the local fence knows every tag). Put a tag in the
    /// options too when an invalidation racing the load must win.
    #[must_use]
    pub fn tags<I, S>(mut self, tags: I) -> Entry<T>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.tags
            .extend(tags.into_iter().map(|tag| Arc::from(tag.as_ref())));
        self
    }

    /// Not stored in any tier (see [`skip`](Entry::skip)).
    #[must_use]
    pub fn uncached(mut self) -> Entry<T> {
        self.cached = false;
        self
    }

    /// The loaded value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The loaded value, without the decisions.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The TTL the loader decided, if any.
    pub fn ttl_value(&self) -> Option<Duration> {
        self.ttl
    }

    /// The stale window the loader decided, if any.
    pub fn stale_value(&self) -> Option<Duration> {
        self.stale
    }

    /// Whether the entry is stored at all.
    pub fn is_cached(&self) -> bool {
        self.cached
    }

    /// The value and what the engine does with it.
    pub(crate) fn into_parts(self) -> (T, Decision) {
        let decision = Decision {
            ttl: self.ttl,
            stale: self.stale,
            tags: self.tags,
            cached: self.cached,
        };
        (self.value, decision)
    }
}

/// A "not found" whose entry decides no TTL lives exactly `none_ttl` (when set): no jitter or
/// stale window may keep it longer than asked, in any tier.
pub(crate) fn with_none_ttl<T>(
    entry: Entry<Option<T>>,
    none_ttl: Option<Duration>,
) -> Entry<Option<T>> {
    match none_ttl {
        Some(ttl) if entry.value.is_none() && entry.ttl.is_none() => {
            entry.ttl(ttl).stale(Duration::ZERO)
        }
        _ => entry,
    }
}

/// The options a "not found" is stored with when nothing else decides: `opts` with the
/// [`with_none_ttl`] rule applied (a batch stores the ids its loader did not return this way).
pub(crate) fn none_ttl_options(opts: &Options) -> Options {
    let (_, decision) = with_none_ttl(Entry::new(None::<()>), opts.none_ttl_value()).into_parts();
    decision
        .options(opts)
        .map_or_else(|| opts.clone(), Cow::into_owned)
}

impl<T> From<T> for Entry<T> {
    fn from(value: T) -> Entry<T> {
        Entry::new(value)
    }
}

/// An [`Entry`]'s decisions without its value.
#[derive(Debug)]
pub(crate) struct Decision {
    ttl: Option<Duration>,
    stale: Option<Duration>,
    tags: Vec<Arc<str>>,
    cached: bool,
}

impl Decision {
    /// A load's outcome split into what goes back to callers and what decides its storing:
    /// an error stores nothing, so it decides nothing.
    pub(crate) fn split<T, E>(loaded: Result<Entry<T>, E>) -> (Result<T, E>, Decision) {
        match loaded {
            Ok(entry) => {
                let (value, decision) = entry.into_parts();
                (Ok(value), decision)
            }
            Err(error) => (Err(error), Entry::new(()).into_parts().1),
        }
    }

    /// The options this entry is stored with, or `None` when it is not stored. Borrowed
    /// unless the loader decided something: a load that decides nothing clones nothing.
    pub(crate) fn options<'a>(&self, base: &'a Options) -> Option<Cow<'a, Options>> {
        if !self.cached {
            return None;
        }
        if self.ttl.is_none() && self.stale.is_none() && self.tags.is_empty() {
            return Some(Cow::Borrowed(base));
        }
        let mut opts = base.clone();
        if let Some(ttl) = self.ttl {
            opts = opts.ttl(ttl).jitter(0.0);
        }
        if let Some(stale) = self.stale {
            opts = opts.stale(stale);
        }
        if !self.tags.is_empty() {
            let known = base.tag_list().unwrap_or(&[]);
            opts = opts.tags(known.iter().chain(&self.tags).map(|tag| &**tag));
        }
        Some(Cow::Owned(opts))
    }
}
