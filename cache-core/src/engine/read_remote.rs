//! Reading through to the remote tier: decoding what it holds, backfilling the tiers above,
//! and the plain reads (`get`, `get_many`) built on both. A tier failure is a miss (counted by
//! [`Remote`](super::remote::Remote)); a corrupt entry is counted, deleted and treated as absent.

use super::Cache;
use super::freshness::{self, Freshness};
use super::read::{Found, Upper};
use super::remote::Remote;
use crate::metrics::{Event, Lookup};
use crate::stats::TierName;
use crate::tier::remote::{Stored, Token};
use crate::tier::{Ticket, request};
use crate::{CacheKey, Cacheable, Options, clock};

/// An entry that did not decode (counted; to be deleted).
pub(crate) struct Corrupt;

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
    /// The remote tier. What it finds is backfilled into the tiers above, fenced by `ticket`
    /// (taken before this read).
    pub(crate) async fn read_remote<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
        ticket: Ticket,
    ) -> RemoteRead<T> {
        let Some(remote) = self.remote_for(opts) else {
            return RemoteRead::Off;
        };
        let (bytes, token) = match remote.read(key).await {
            Ok(Stored::Entry(bytes, token)) => (bytes, token),
            Ok(other) => {
                self.count_remote_lookup(key, Lookup::Miss);
                return match other {
                    Stored::Leased(token) => RemoteRead::Leased(token),
                    _ => RemoteRead::Absent,
                };
            }
            Err(_) => {
                self.count_remote_lookup(key, Lookup::Error);
                return RemoteRead::Failed;
            }
        };
        let found = self
            .decode_remote(&remote, key, opts, &bytes, token, ticket)
            .await;
        let result = match &found {
            RemoteRead::Found(_, Freshness::Stale) => Lookup::Stale,
            RemoteRead::Found(..) => Lookup::Hit,
            _ => Lookup::Miss,
        };
        self.count_remote_lookup(key, result);
        found
    }

    pub(crate) fn count_remote_lookup(&self, key: &CacheKey, result: Lookup) {
        let lookup = Event::Lookup(key.cache_name(), TierName::Remote, result);
        self.inner.recorder.record(lookup);
    }

    /// Decodes bytes read from the remote tier and backfills the tiers above; a corrupt entry
    /// is counted and deleted.
    pub(crate) async fn decode_remote<T: Cacheable>(
        &self,
        remote: &Remote<'_>,
        key: &CacheKey,
        opts: &Options,
        bytes: &[u8],
        token: Option<Token>,
        ticket: Ticket,
    ) -> RemoteRead<T> {
        match self.decode_found(remote, key, opts, bytes, token, ticket) {
            Ok(read) => read,
            Err(Corrupt) => {
                // Boxed: a rare path, kept out of every remote read's future. Should the
                // delete fail too, the entry simply expires.
                Box::pin(remote.delete(key)).await;
                RemoteRead::Absent
            }
        }
    }

    /// [`decode_remote`](Cache::decode_remote) without the delete, which is the caller's:
    /// not async, so a batch decodes each key without a future per key.
    fn decode_found<T: Cacheable>(
        &self,
        remote: &Remote<'_>,
        key: &CacheKey,
        opts: &Options,
        bytes: &[u8],
        token: Option<Token>,
        ticket: Ticket,
    ) -> Result<RemoteRead<T>, Corrupt> {
        match self.inner.codec.decode_weighed::<T>(bytes) {
            Ok((meta, value, weight)) => {
                let state = freshness::classify(&meta, clock::now_ms(), None);
                if state == Freshness::Expired {
                    return Ok(RemoteRead::Absent);
                }
                let found = Found {
                    // Copied only if a tier above keeps it (`keep_found`).
                    shared: None,
                    value,
                    meta,
                    weight,
                    token,
                    ticket,
                };
                self.keep_found(key, opts, &found);
                Ok(RemoteRead::Found(found, state))
            }
            Err(error) => {
                remote.count_corrupt(&error);
                Err(Corrupt)
            }
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
                self.inner.recorder.record(Event::Served(TierName::Remote));
                Some(found.value)
            }
            _ => None,
        }
    }

    /// Fresh values for many keys: upper tiers first, then one remote round trip for the rest.
    pub(crate) async fn read_many<T: Cacheable>(&self, keys: &[CacheKey]) -> Vec<Option<T>> {
        let opts = Options::plain_read();
        let ticket = self.ticket();
        // No tier above the remote one here (no local tier, outside a request scope): no key
        // is looked up in one.
        let upper = self.local_for(&opts).is_some() || request::in_request_scope();
        let mut out: Vec<Option<T>> = keys
            .iter()
            .map(
                |key| match upper.then(|| self.read_upper::<T>(key, &opts)) {
                    Some(Upper::Hit(value)) => Some(value),
                    _ => None,
                },
            )
            .collect();
        let missing: Vec<&CacheKey> = (keys.iter().zip(&out))
            .filter(|(_, found)| found.is_none())
            .map(|(key, _)| key)
            .collect();
        let Some(remote) = self.remote_for(&opts).filter(|_| !missing.is_empty()) else {
            return out;
        };
        let Ok(found) = remote.read_many(&missing).await else {
            return out;
        };
        let mut corrupt = Vec::new();
        let still_missing = out.iter_mut().filter(|found| found.is_none());
        for ((slot, key), stored) in still_missing.zip(missing).zip(found) {
            let Stored::Entry(bytes, token) = stored else {
                continue;
            };
            match self.decode_found::<T>(&remote, key, &opts, &bytes, token, ticket) {
                Ok(RemoteRead::Found(found, Freshness::Fresh)) => {
                    self.inner.recorder.record(Event::Served(TierName::Remote));
                    *slot = Some(found.value);
                }
                Ok(_) => {}
                Err(Corrupt) => corrupt.push(key),
            }
        }
        for key in corrupt {
            // Should the delete fail too, the entry simply expires.
            remote.delete(key).await;
        }
        out
    }
}
