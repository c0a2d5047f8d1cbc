//! Reading from the tiers: lookups with backfill. Tier failures become misses plus a counted
//! error. Every read takes a fence [`Ticket`] first, so what it backfills is dropped if an
//! invalidation overtook it (see [`fence`](super::fence)).

use std::sync::Arc;

use super::Cache;
use super::fence::Ticket;
use super::freshness::{self, Freshness};
use crate::codec::EntryMeta;
use crate::metrics::Lookup;
use crate::stats::{Stats, TierName};
use crate::tier::local::LocalTier;
use crate::tier::remote::{RemoteTier, Stored, Token};
use crate::tier::{SharedValue, request};
use crate::{CacheKey, Cacheable, Error, Options, Tiers, clock};
use tracing::Instrument;

/// A value found in a tier together with its lifetimes and provenance.
pub(crate) struct Found<T> {
    pub(crate) value: T,
    pub(crate) shared: SharedValue,
    pub(crate) meta: EntryMeta,
    /// Length of its envelope before compression (its weight in the local tier).
    pub(crate) weight: usize,
    /// The remote write it came from, when known (fences its refresh).
    pub(crate) token: Option<Token>,
    /// Taken before it was read: storing it again (fail-safe) is fenced by this.
    pub(crate) ticket: Ticket,
}

/// What the request and local tiers had.
pub(crate) enum Upper<T> {
    /// A value to return as is.
    Hit(T),
    /// A value that is stale or picked for early refresh.
    Refresh(Found<T>, Freshness),
    Miss,
}

/// What the remote tier had.
pub(crate) enum RemoteRead<T> {
    Found(Found<T>, Freshness),
    /// A loader (this process's when the token says so) holds the key's lease.
    Leased(Token),
    /// Nothing (or nothing usable: expired, corrupt).
    Absent,
    /// The tier failed (counted); nothing is known about the key.
    Failed,
    /// No remote tier for these options.
    Off,
}

impl Cache {
    pub(crate) fn local_for(&self, opts: &Options) -> Option<&LocalTier> {
        self.inner
            .local
            .as_ref()
            .filter(|_| opts.tiers.contains(Tiers::LOCAL))
    }

    pub(crate) fn remote_for(&self, opts: &Options) -> Option<&Arc<dyn RemoteTier>> {
        self.inner
            .remote
            .as_ref()
            .filter(|_| opts.tiers.contains(Tiers::REMOTE))
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
        let (stats, metrics) = (&self.inner.stats, &self.inner.metrics);
        let name = key.cache_name();
        // Looked up once: outside a scope (the common case for background work) the request
        // tier costs one thread-local probe and nothing else.
        let mut in_request_scope = false;
        if opts.tiers.contains(Tiers::REQUEST)
            && let Some(in_scope) = request::get(self.inner.id, key.as_str())
        {
            in_request_scope = true;
            if let Some(value) = in_scope.and_then(|s| self.scoped::<T>(key.as_str(), &s)) {
                stats.hit(TierName::Request);
                metrics.request(name, Some(TierName::Request), Lookup::Hit);
                return Upper::Hit(value);
            }
            metrics.request(name, Some(TierName::Request), Lookup::Miss);
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
            match freshness::classify(&entry.meta, clock::now_ms(), opts.early_refresh) {
                Freshness::Fresh => {
                    stats.hit(TierName::Local);
                    metrics.request(name, Some(TierName::Local), Lookup::Hit);
                    if let Some(ticket) = scope_ticket {
                        request::insert(self.inner.id, key, Arc::clone(&entry.value), ticket);
                    }
                    Upper::Hit(value.clone())
                }
                Freshness::Expired => Upper::Miss,
                state => Upper::Refresh(
                    Found {
                        value: value.clone(),
                        shared: Arc::clone(&entry.value),
                        meta: entry.meta,
                        weight: entry.weight as usize,
                        token: entry.token,
                        ticket: Ticket::admitted(entry),
                    },
                    state,
                ),
            }
        });
        let upper = upper.unwrap_or(Upper::Miss);
        if matches!(upper, Upper::Miss) {
            metrics.request(name, Some(TierName::Local), Lookup::Miss);
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
        let (stats, metrics) = (&self.inner.stats, &self.inner.metrics);
        if opts.tiers.contains(Tiers::REQUEST)
            && let Some(in_scope) = request::get(self.inner.id, key_text)
        {
            let (value, ticket) = in_scope?;
            if !self.inner.fences.quiet_since(ticket) {
                return None;
            }
            let value = value.downcast_ref::<T>()?.clone();
            stats.hit(TierName::Request);
            metrics.request(name, Some(TierName::Request), Lookup::Hit);
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
                if !freshness::surely_fresh(&entry.meta, now, opts.early_refresh) {
                    return None;
                }
                stats.hit(TierName::Local);
                metrics.request(name, Some(TierName::Local), Lookup::Hit);
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
        let (value, shared) = local
            .with_entry(key.as_str(), |entry| {
                if !fences.entry_valid(entry) {
                    return None;
                }
                let fresh =
                    freshness::classify(&entry.meta, clock::now_ms(), None) == Freshness::Fresh;
                let value = entry.value.downcast_ref::<T>().filter(|_| fresh)?.clone();
                Some((value, Arc::clone(&entry.value)))
            })
            .flatten()?;
        // A second lookup of this call, and a hit: counted like one.
        self.inner.stats.hit(TierName::Local);
        self.inner
            .metrics
            .request(key.cache_name(), Some(TierName::Local), Lookup::Hit);
        self.backfill_request(key, opts, &shared, ticket);
        Some(value)
    }

    /// The remote tier. A corrupt entry is counted, deleted and reported as absent. What it
    /// finds is backfilled into the tiers above, fenced by `ticket` (taken before this read).
    pub(crate) async fn read_remote<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
        ticket: Ticket,
    ) -> RemoteRead<T> {
        let Some(remote) = self.remote_for(opts) else {
            return RemoteRead::Off;
        };
        let remote_key = self.remote_key(key);
        let name = key.cache_name();
        let metrics = &self.inner.metrics;
        let (bytes, token) = match self.timed_remote("get", remote.read(&remote_key)).await {
            Ok(Stored::Entry(bytes, token)) => (bytes, token),
            Ok(other) => {
                metrics.request(name, Some(TierName::Remote), Lookup::Miss);
                return match other {
                    Stored::Leased(token) => RemoteRead::Leased(token),
                    _ => RemoteRead::Absent,
                };
            }
            Err(error) => {
                metrics.request(name, Some(TierName::Remote), Lookup::Error);
                self.tier_error(&error, "get");
                return RemoteRead::Failed;
            }
        };
        let found = self
            .decode_remote(key, opts, &remote_key, &bytes, token, ticket)
            .await;
        let result = match &found {
            RemoteRead::Found(_, Freshness::Stale) => Lookup::Stale,
            RemoteRead::Found(..) => Lookup::Hit,
            _ => Lookup::Miss,
        };
        metrics.request(name, Some(TierName::Remote), result);
        found
    }

    /// Awaits a remote-tier operation, recording its duration.
    pub(crate) async fn timed_remote<R>(
        &self,
        operation: &'static str,
        call: impl std::future::Future<Output = R>,
    ) -> R {
        let started = std::time::Instant::now();
        let result = call
            .instrument(tracing::debug_span!("cache.remote", operation))
            .await;
        self.inner
            .metrics
            .tier_op(crate::stats::TierName::Remote, operation, started.elapsed());
        result
    }

    /// Decodes bytes read from the remote tier and backfills the tiers above.
    async fn decode_remote<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
        remote_key: &str,
        bytes: &[u8],
        token: Option<Token>,
        ticket: Ticket,
    ) -> RemoteRead<T> {
        match self.inner.codec.decode_weighed::<T>(bytes) {
            Ok((meta, value, weight)) => {
                let state = freshness::classify(&meta, clock::now_ms(), None);
                if state == Freshness::Expired {
                    return RemoteRead::Absent;
                }
                let found = Found {
                    shared: Arc::new(value.clone()),
                    value,
                    meta,
                    weight,
                    token,
                    ticket,
                };
                self.keep_found(key, opts, &found);
                RemoteRead::Found(found, state)
            }
            Err(error) => {
                Stats::bump(&self.inner.stats.corrupt_entries);
                self.tier_error(&error, "decode");
                if let Some(remote) = &self.inner.remote
                    && let Err(error) = self.timed_remote("delete", remote.delete(remote_key)).await
                {
                    self.tier_error(&error, "delete");
                }
                RemoteRead::Absent
            }
        }
    }

    pub(crate) fn tier_error(&self, error: &Error, operation: &'static str) {
        Stats::bump(&self.inner.stats.errors);
        // Encoding happens before any tier is written; everything else is the remote tier.
        let tier = if operation == "encode" {
            TierName::Local
        } else {
            TierName::Remote
        };
        self.inner.metrics.error(tier, error.kind());
        if matches!(error, Error::RemoteUnavailable) {
            // Expected on every call during an outage: the breaker already logged the outage.
            tracing::debug!(operation, "remote tier skipped while its breaker is open");
        } else {
            tracing::warn!(%error, operation, kind = error.kind(), "cache tier error counted as a miss");
        }
    }

    /// A fresh value from any tier, without loading.
    pub(crate) async fn read_fresh<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
    ) -> Option<T> {
        let ticket = self.ticket();
        match self.read_upper::<T>(key, opts) {
            Upper::Hit(value) => return Some(value),
            Upper::Refresh(found, Freshness::EarlyRefresh) => return Some(found.value),
            Upper::Refresh(..) | Upper::Miss => {}
        }
        match self.read_remote::<T>(key, opts, ticket).await {
            RemoteRead::Found(found, Freshness::Fresh | Freshness::EarlyRefresh) => {
                self.inner.stats.hit(TierName::Remote);
                Some(found.value)
            }
            _ => None,
        }
    }

    pub(crate) async fn read_many<T: Cacheable>(&self, keys: &[CacheKey]) -> Vec<Option<T>> {
        let opts = Options::plain_read();
        let ticket = self.ticket();
        let mut out: Vec<Option<T>> = keys
            .iter()
            .map(|key| match self.read_upper::<T>(key, &opts) {
                Upper::Hit(value) => Some(value),
                _ => None,
            })
            .collect();
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| out[i].is_none()).collect();
        let Some(remote) = self.remote_for(&opts).filter(|_| !missing.is_empty()) else {
            return out;
        };
        let remote_keys: Vec<String> = missing.iter().map(|&i| self.remote_key(&keys[i])).collect();
        let found = match self
            .timed_remote("get_many", remote.read_many(&remote_keys))
            .await
        {
            Ok(found) => found,
            Err(error) => {
                self.tier_error(&error, "get_many");
                return out;
            }
        };
        for ((&i, remote_key), stored) in missing.iter().zip(&remote_keys).zip(found) {
            let Stored::Entry(bytes, token) = stored else {
                continue;
            };
            if let RemoteRead::Found(found, Freshness::Fresh) = self
                .decode_remote::<T>(&keys[i], &opts, remote_key, &bytes, token, ticket)
                .await
            {
                self.inner.stats.hit(TierName::Remote);
                out[i] = Some(found.value);
            }
        }
        out
    }
}
