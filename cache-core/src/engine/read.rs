//! Reading the request and local tiers: the hit path, without allocation or await. Every read
//! takes a fence [`Ticket`] first, so what it backfills is dropped if an invalidation
//! overtook it (see [`fence`](super::fence)).

use std::sync::Arc;

use super::Cache;
use super::freshness::{self, Freshness};
use crate::codec::EntryMeta;
use crate::metrics::{Event, Lookup};
use crate::stats::TierName;
use crate::tier::entry::LocalEntry;
use crate::tier::local::LocalTier;
use crate::tier::remote::Token;
use crate::tier::{Held, Ticket, request};
use crate::{CacheKey, Cacheable, Options, Tiers, clock};

/// A value found in a tier together with its lifetimes and provenance.
pub(crate) struct Found<T> {
    pub(crate) value: T,
    /// The local entry it came from, if it did; a value decoded from the remote tier gets a
    /// shared copy only when a tier above keeps it (see [`Found::held`]). An entry rather than
    /// a [`Held`], which would make every `Found` a word larger and its moves a `memcpy` call.
    pub(crate) shared: Option<Arc<LocalEntry>>,
    pub(crate) meta: EntryMeta,
    /// Length of its envelope before compression (its weight in the local tier).
    pub(crate) weight: usize,
    /// The remote write it came from, when known (fences its refresh).
    pub(crate) token: Option<Token>,
    /// Taken before it was read: storing it again (fail-safe) is fenced by this.
    pub(crate) ticket: Ticket,
}

impl<T: Cacheable> Found<T> {
    /// The value as the request tier keeps it: `entry` (where it was just stored), else the
    /// entry it came from, else a new copy.
    pub(crate) fn held(&self, entry: Option<Arc<LocalEntry>>) -> Held {
        Held::of(entry.or_else(|| self.shared.clone()), &self.value)
    }

    /// The value as the request tier keeps it: the tier's copy, or a new one.
    pub(crate) fn shared(&self) -> Held {
        self.held(None)
    }
}

/// What the request and local tiers had.
pub(crate) enum Upper<T> {
    /// A value to return as is.
    Hit(T),
    /// A value that is stale or picked for early refresh.
    Refresh(Found<T>, Freshness),
    Miss,
}

impl Cache {
    /// The local tier, if there is one and `opts` let this call use it.
    #[inline]
    pub(crate) fn local_for(&self, opts: &Options) -> Option<&LocalTier> {
        self.inner
            .local
            .as_ref()
            .filter(|_| opts.uses(Tiers::LOCAL))
    }

    pub(crate) fn ticket(&self) -> Ticket {
        self.inner.fences.ticket()
    }

    /// A request-tier value, if it is still valid: values in one scope may have been read
    /// before another task's invalidation, which cannot reach into this scope's map.
    fn scoped<T: Cacheable>(&self, key_text: &str, scoped: &request::Scoped) -> Option<T> {
        let (value, ticket) = scoped;
        if !self.inner.fences.still_valid(key_text, None, *ticket) {
            request::remove(self.inner.id, key_text);
            return None;
        }
        value.downcast_ref::<T>().cloned()
    }

    /// The request tier, then the local tier. The hot path: no allocation, no await.
    pub(crate) fn read_upper<T: Cacheable>(&self, key: &CacheKey, opts: &Options) -> Upper<T> {
        let recorder = &self.inner.recorder;
        let name = key.cache_name();
        // Looked up once: outside a scope (the common case for background work) the request
        // tier costs one thread-local probe and nothing else.
        let mut in_request_scope = false;
        if opts.uses(Tiers::REQUEST)
            && let Some(in_scope) = request::get(self.inner.id, key.as_str())
        {
            in_request_scope = true;
            if let Some(value) = in_scope.and_then(|s| self.scoped::<T>(key.as_str(), &s)) {
                recorder.record(Event::Hit(name, TierName::Request));
                return Upper::Hit(value);
            }
            recorder.record(Event::Lookup(name, TierName::Request, Lookup::Miss));
        }
        let Some(local) = self.local_for(opts) else {
            return Upper::Miss;
        };
        // Only a value copied into the request tier needs the ticket of this read; a stale
        // entry's own admission clock serves as its ticket (it predates this read).
        let scope_ticket = in_request_scope.then(|| self.ticket());
        let fences = &self.inner.fences;
        let upper = local.with_entry(key.as_str(), |entry| {
            if !fences.entry_valid(entry) {
                return Upper::Miss;
            }
            let Some(value) = entry.value.downcast_ref::<T>() else {
                tracing::warn!(key = %key, "local entry holds another type; two functions share a cache key");
                return Upper::Miss;
            };
            let meta = entry.meta();
            match freshness::classify(&meta, clock::now_ms(), opts.early_refresh_value()) {
                Freshness::Fresh => {
                    recorder.record(Event::Hit(name, TierName::Local));
                    if let Some(ticket) = scope_ticket {
                        let held = Held::Entry(Arc::clone(entry));
                        request::insert(self.inner.id, key, held, ticket);
                    }
                    Upper::Hit(value.clone())
                }
                Freshness::Expired => Upper::Miss,
                state => Upper::Refresh(
                    Found {
                        value: value.clone(),
                        shared: Some(Arc::clone(entry)),
                        meta,
                        weight: entry.weight as usize,
                        token: entry.token(),
                        ticket: entry.ticket(),
                    },
                    state,
                ),
            }
        });
        let upper = upper.unwrap_or(Upper::Miss);
        if matches!(upper, Upper::Miss) {
            recorder.record(Event::Lookup(name, TierName::Local, Lookup::Miss));
        }
        upper
    }

    /// The hit path of a `#[cached]` call, before its key is allocated: a fresh value in the
    /// request or local tier for the key whose text is `key_text`, counted as a hit. Anything
    /// else (a miss, a stale entry, an entry near expiry that XFetch may pick for refresh, a
    /// flag that is not plainly on, a request-tier value an invalidation may have overtaken) is
    /// `None` and counted nothing: the caller builds the key and takes the full path.
    pub(crate) fn hit_by_text<T: Cacheable>(
        &self,
        key_text: &str,
        name: &str,
        opts: &Options,
    ) -> Option<T> {
        if self.inner.flags.decide_text(opts.flag_for(name), key_text) != crate::FlagMode::On {
            return None;
        }
        let recorder = &self.inner.recorder;
        if opts.uses(Tiers::REQUEST)
            && let Some(in_scope) = request::get(self.inner.id, key_text)
        {
            let (value, ticket) = in_scope?;
            if !self.inner.fences.quiet_since(ticket) {
                return None;
            }
            let value = value.downcast_ref::<T>()?.clone();
            recorder.record(Event::Hit(name, TierName::Request));
            return Some(value);
        }
        let now = clock::now_ms();
        let fences = &self.inner.fences;
        self.local_for(opts)?
            .with_entry(key_text, |entry| {
                if !fences.entry_valid(entry) {
                    return None;
                }
                let value = entry.value.downcast_ref::<T>()?;
                if !freshness::surely_fresh(&entry.meta(), now, opts.early_refresh_value()) {
                    return None;
                }
                recorder.record(Event::Hit(name, TierName::Local));
                Some(value.clone())
            })
            .flatten()
    }

    /// A fresh value already in the local tier, counted as a local hit: the leader of a flight
    /// checks it in case another flight just filled it.
    pub(crate) fn peek_local<T: Cacheable>(&self, key: &CacheKey, opts: &Options) -> Option<T> {
        let local = self.local_for(opts)?;
        let ticket = self.ticket();
        let fences = &self.inner.fences;
        let (value, entry) = local
            .with_entry(key.as_str(), |entry| {
                if !fences.entry_valid(entry) {
                    return None;
                }
                let fresh =
                    freshness::classify(&entry.meta(), clock::now_ms(), None) == Freshness::Fresh;
                let value = entry.value.downcast_ref::<T>().filter(|_| fresh)?.clone();
                Some((value, Arc::clone(entry)))
            })
            .flatten()?;
        // A second lookup of this call, and a hit: counted like one.
        let hit = Event::Hit(key.cache_name(), TierName::Local);
        self.inner.recorder.record(hit);
        self.backfill_request(key, opts, || Held::Entry(entry), ticket);
        Some(value)
    }
}
