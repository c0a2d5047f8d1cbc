//! Reading from and writing to the tiers: lookups with backfill, writes with TTLs, removals
//! with backplane announcements. Tier failures become misses plus a counted error.

use std::sync::Arc;
use std::time::Duration;

use super::Cache;
use super::freshness::{self, Freshness};
use crate::codec::EntryMeta;
use crate::metrics::Lookup;
use crate::stats::{Stats, TierName};
use crate::tier::local::{LocalEntry, LocalTier};
use crate::tier::remote::{RemoteEvent, RemoteTier};
use crate::tier::{SharedValue, request};
use crate::{CacheKey, Cacheable, Error, Options, Tiers, clock};
use tracing::Instrument;

/// A value found in a tier together with its lifetimes.
pub(crate) struct Found<T> {
    pub(crate) value: T,
    pub(crate) shared: SharedValue,
    pub(crate) meta: EntryMeta,
    /// Length of its envelope before compression (its weight in the local tier).
    pub(crate) encoded_len: usize,
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

    pub(crate) fn backfill_request(&self, key: &CacheKey, opts: &Options, shared: &SharedValue) {
        if opts.tiers.contains(Tiers::REQUEST) {
            request::insert(self.inner.id, key, Arc::clone(shared));
        }
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
            if let Some(value) = in_scope.as_ref().and_then(|s| s.downcast_ref::<T>()) {
                stats.hit(TierName::Request);
                metrics.request(name, Some(TierName::Request), Lookup::Hit);
                return Upper::Hit(value.clone());
            }
            metrics.request(name, Some(TierName::Request), Lookup::Miss);
        }
        let Some(local) = self.local_for(opts) else {
            return Upper::Miss;
        };
        let upper = local.with_entry(key.as_str(), |entry| {
            let Some(value) = entry.value.downcast_ref::<T>() else {
                tracing::warn!(key = %key, "local entry holds another type; two functions share a cache key");
                return Upper::Miss;
            };
            match freshness::classify(&entry.meta, clock::now_ms(), opts.early_refresh) {
                Freshness::Fresh => {
                    stats.hit(TierName::Local);
                    metrics.request(name, Some(TierName::Local), Lookup::Hit);
                    if in_request_scope {
                        request::insert(self.inner.id, key, Arc::clone(&entry.value));
                    }
                    Upper::Hit(value.clone())
                }
                Freshness::Expired => Upper::Miss,
                state => Upper::Refresh(
                    Found {
                        value: value.clone(),
                        shared: Arc::clone(&entry.value),
                        meta: entry.meta,
                        encoded_len: entry.weight as usize,
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
    /// flag that is not plainly on, a local hit that the request scope would want to copy) is
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
            let value = in_scope?.downcast_ref::<T>()?.clone();
            stats.hit(TierName::Request);
            metrics.request(name, Some(TierName::Request), Lookup::Hit);
            return Some(value);
        }
        let now = clock::now_ms();
        self.local_for(opts)?
            .with_entry(key_text, |entry| {
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
        let (value, shared) = local
            .with_entry(key.as_str(), |entry| {
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
        self.backfill_request(key, opts, &shared);
        Some(value)
    }

    /// The remote tier. A corrupt entry is counted, deleted and reported as a miss.
    pub(crate) async fn read_remote<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
    ) -> Option<(Found<T>, Freshness)> {
        let remote = self.remote_for(opts)?;
        let remote_key = self.remote_key(key);
        let name = key.cache_name();
        let read = self.timed_remote("get", remote.get(&remote_key)).await;
        let bytes = match read {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                self.inner
                    .metrics
                    .request(name, Some(TierName::Remote), Lookup::Miss);
                return None;
            }
            Err(error) => {
                self.inner
                    .metrics
                    .request(name, Some(TierName::Remote), Lookup::Error);
                self.tier_error(&error, "get");
                return None;
            }
        };
        let found = self.decode_remote(key, opts, &remote_key, &bytes).await;
        let result = match &found {
            Some((_, Freshness::Stale)) => Lookup::Stale,
            Some(_) => Lookup::Hit,
            None => Lookup::Miss,
        };
        self.inner
            .metrics
            .request(name, Some(TierName::Remote), result);
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
            .tier_op(TierName::Remote, operation, started.elapsed());
        result
    }

    /// Decodes bytes read from the remote tier and backfills the tiers above.
    async fn decode_remote<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
        remote_key: &str,
        bytes: &[u8],
    ) -> Option<(Found<T>, Freshness)> {
        match self.inner.codec.decode_weighed::<T>(bytes) {
            Ok((meta, value, encoded_len)) => {
                let state = freshness::classify(&meta, clock::now_ms(), None);
                if state == Freshness::Expired {
                    return None;
                }
                let shared: SharedValue = Arc::new(value.clone());
                self.put_local(key, opts, &shared, meta, encoded_len);
                self.backfill_request(key, opts, &shared);
                Some((
                    Found {
                        value,
                        shared,
                        meta,
                        encoded_len,
                    },
                    state,
                ))
            }
            Err(error) => {
                Stats::bump(&self.inner.stats.corrupt_entries);
                self.tier_error(&error, "decode");
                if let Some(remote) = &self.inner.remote
                    && let Err(error) = self.timed_remote("delete", remote.delete(remote_key)).await
                {
                    self.tier_error(&error, "delete");
                }
                None
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

    pub(crate) fn put_local(
        &self,
        key: &CacheKey,
        opts: &Options,
        shared: &SharedValue,
        meta: EntryMeta,
        encoded_len: usize,
    ) {
        if let Some(local) = self.local_for(opts) {
            let entry = LocalEntry::new(Arc::clone(shared), meta, encoded_len, opts.tags.clone());
            local.insert(key.clone(), entry);
        }
    }

    /// Records a load's outcome in the upper tiers (values written, errors only counted) and
    /// returns the envelope still to be written to the remote tier.
    pub(crate) fn record_load<T: Cacheable, E>(
        &self,
        key: &CacheKey,
        opts: &Options,
        result: &Result<T, E>,
        took: Duration,
    ) -> Option<(Vec<u8>, EntryMeta)> {
        self.inner.metrics.load(key.cache_name(), took);
        match result {
            Ok(value) => self.write_upper(key, value, opts, took),
            Err(_) => {
                Stats::bump(&self.inner.stats.load_errors);
                None
            }
        }
    }

    /// Records a load's outcome in every tier.
    pub(crate) async fn after_load<T: Cacheable, E>(
        &self,
        key: &CacheKey,
        opts: &Options,
        result: &Result<T, E>,
        took: Duration,
    ) {
        if let Some(envelope) = self.record_load(key, opts, result, took) {
            self.write_remote(key, opts, envelope).await;
        }
    }

    /// Writes `value` with fresh lifetimes to the request and local tiers; returns the envelope
    /// for the remote tier. Needs no runtime, so sync callers use it directly.
    pub(crate) fn write_upper<T: Cacheable>(
        &self,
        key: &CacheKey,
        value: &T,
        opts: &Options,
        load_time: Duration,
    ) -> Option<(Vec<u8>, EntryMeta)> {
        let now = clock::now_ms();
        let ttl = opts.ttl.unwrap_or(self.inner.default_ttl);
        let meta = freshness::new_meta(now, ttl, opts.stale, opts.jitter, load_time);
        let shared: SharedValue = Arc::new(value.clone());
        let encoded = self.inner.codec.encode_weighed(value, meta);
        let encoded_len = encoded
            .as_ref()
            .map_or(std::mem::size_of::<T>(), |(_, len)| *len);
        self.put_local(key, opts, &shared, meta, encoded_len);
        self.backfill_request(key, opts, &shared);
        match encoded {
            Ok((bytes, _)) => {
                self.inner.metrics.entry_size(key.cache_name(), bytes.len());
                Some((bytes, meta))
            }
            Err(error) => {
                self.tier_error(&error, "encode");
                None
            }
        }
    }

    /// Writes `value` with fresh lifetimes to every tier the options allow.
    pub(crate) async fn write<T: Cacheable>(
        &self,
        key: &CacheKey,
        value: &T,
        opts: &Options,
        load_time: Duration,
    ) {
        if let Some(envelope) = self.write_upper(key, value, opts, load_time) {
            self.write_remote(key, opts, envelope).await;
        }
    }

    async fn write_remote(
        &self,
        key: &CacheKey,
        opts: &Options,
        (bytes, meta): (Vec<u8>, EntryMeta),
    ) {
        let Some(remote) = self.remote_for(opts) else {
            return;
        };
        // The remote TTL is the end of the stale window: every key expires by itself.
        let ttl =
            clock::until(meta.stale_until_ms, clock::now_ms()).unwrap_or(Duration::from_millis(1));
        let tags: Vec<Arc<str>> = opts
            .tags
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .map(|tag| Arc::from(self.remote_tag(tag)))
            .collect();
        let remote_key = self.remote_key(key);
        let written = self
            .timed_remote("set", remote.set(&remote_key, &bytes, ttl, &tags))
            .await;
        if let Err(error) = written {
            self.tier_error(&error, "set");
        }
    }

    /// Tells other nodes that `key` changed so they drop their local copy.
    pub(crate) async fn announce_change(&self, key: &CacheKey) {
        if let Some(remote) = &self.inner.remote
            && let Err(error) = self
                .timed_remote(
                    "publish",
                    remote.publish(RemoteEvent::Invalidate(self.remote_key(key))),
                )
                .await
        {
            self.tier_error(&error, "publish");
        }
    }

    pub(crate) async fn remove_everywhere(&self, key: &CacheKey) {
        request::remove(self.inner.id, key.as_str());
        if let Some(local) = &self.inner.local {
            local.invalidate(key.as_str());
        }
        if let Some(remote) = &self.inner.remote
            && let Err(error) = self
                .timed_remote("delete", remote.delete(&self.remote_key(key)))
                .await
        {
            self.tier_error(&error, "delete");
        }
        self.announce_change(key).await;
    }

    pub(crate) async fn remove_tag_everywhere(&self, tag: &str) {
        // The request tier does not index tags; a tag invalidation is rare, so drop it all.
        request::clear(self.inner.id);
        if let Some(local) = &self.inner.local {
            local.invalidate_tag(tag);
        }
        if let Some(remote) = &self.inner.remote {
            let remote_tag = self.remote_tag(tag);
            if let Err(error) = self
                .timed_remote("invalidate_tag", remote.invalidate_tag(&remote_tag))
                .await
            {
                self.tier_error(&error, "invalidate_tag");
            }
            if let Err(error) = self
                .timed_remote(
                    "publish",
                    remote.publish(RemoteEvent::InvalidateTag(remote_tag)),
                )
                .await
            {
                self.tier_error(&error, "publish");
            }
        }
    }

    /// A fresh value from any tier, without loading.
    pub(crate) async fn read_fresh<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
    ) -> Option<T> {
        match self.read_upper::<T>(key, opts) {
            Upper::Hit(value) => return Some(value),
            Upper::Refresh(found, Freshness::EarlyRefresh) => return Some(found.value),
            Upper::Refresh(..) | Upper::Miss => {}
        }
        match self.read_remote::<T>(key, opts).await {
            Some((found, Freshness::Fresh | Freshness::EarlyRefresh)) => {
                self.inner.stats.hit(TierName::Remote);
                Some(found.value)
            }
            _ => None,
        }
    }

    pub(crate) async fn read_many<T: Cacheable>(&self, keys: &[CacheKey]) -> Vec<Option<T>> {
        let opts = Options::plain_read();
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
            .timed_remote("get_many", remote.get_many(&remote_keys))
            .await
        {
            Ok(found) => found,
            Err(error) => {
                self.tier_error(&error, "get_many");
                return out;
            }
        };
        for ((&i, remote_key), bytes) in missing.iter().zip(&remote_keys).zip(found) {
            let Some(bytes) = bytes else { continue };
            if let Some((found, Freshness::Fresh)) = self
                .decode_remote::<T>(&keys[i], &opts, remote_key, &bytes)
                .await
            {
                self.inner.stats.hit(TierName::Remote);
                out[i] = Some(found.value);
            }
        }
        out
    }
}
