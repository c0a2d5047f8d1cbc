//! Storing values: a load's result (fenced in every tier), a value found in the remote tier
//! (backfilled above, fenced locally), an authoritative [`Cache::set`].
//!
//! Order matters for coherence. A load's result goes to the remote tier first, as a fill
//! fenced by the lease or entry token it started from; only if that fill was not refused does
//! it go to the local tier, fenced by the ticket taken before the load. So a load that began
//! before an invalidation writes its result nowhere after it.

use std::sync::Arc;
use std::time::Duration;

use super::Cache;
use super::fence::Scope;
use super::freshness;
use super::read::Found;
use super::remote_call::count_failure;
use crate::codec::EntryMeta;
use crate::metrics::Event;
use crate::stats::TierName;
use crate::tier::entry::LocalEntry;
use crate::tier::local::LocalTier;
use crate::tier::remote::{Fence, Token};
use crate::tier::{Held, Ticket, request};
use crate::{CacheKey, Cacheable, Options, Tiers, clock};

/// How a load's result may be written to the remote tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RemoteFill {
    /// Only while this fence is in place (one conditional write).
    Fenced(Fence),
    /// A plain write: the tier has no leases, so it cannot fence. It lands only in this
    /// namespace generation, read after the load's ticket (a clear in between fenced the
    /// ticket, or moved the generation on).
    Plain(u64),
    /// Not at all: the fence is unknown (the lease could not be taken), so a write might
    /// land after an invalidation.
    Skip,
    /// An authoritative write voiding every older fill's fence (a forced refresh), made only
    /// while no invalidation of the key since the load's ticket is known on this node.
    Overwrite,
}

/// A store the local tier's fence refused: an invalidation covering the key happened after
/// the store's ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused;

/// Everything a load needs to store its result coherently; taken before the load starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FillPlan {
    pub(crate) ticket: Ticket,
    pub(crate) remote: RemoteFill,
}

/// What became of a load's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// Written to the remote tier (the fill replaced the lease) and kept locally.
    Yes,
    /// Kept locally; the remote tier was not written (no fence, or the write failed).
    Local,
    /// Refused: something newer happened to the key since the load began.
    Fenced,
    /// Not cached (loader error, encoding error).
    Nothing,
}

impl Cache {
    /// Keeps `held` (made only if it is kept) in the request tier, when there is one.
    pub(crate) fn backfill_request(
        &self,
        key: &CacheKey,
        opts: &Options,
        held: impl FnOnce() -> Held,
        ticket: Ticket,
    ) {
        if opts.uses(Tiers::REQUEST) && request::in_request_scope() {
            request::insert(self.inner.id, key, held(), ticket);
        }
    }

    /// Stores a copy of `value` in the local tier unless an invalidation covering it happened
    /// after `ticket`; returns the new entry (`None` when there is no local tier).
    pub(crate) fn put_local<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
        value: &T,
        size: (EntryMeta, usize),
        token: Option<Token>,
        ticket: Ticket,
    ) -> Result<Option<Arc<LocalEntry>>, Refused> {
        let Some(local) = self.local_for(opts) else {
            return Ok(None);
        };
        // Built (the value copied) before the fence lock is taken; stamped under it.
        let entry = local_entry(value, size, opts, token);
        let tags = opts.tag_list();
        let admitted = self.inner.fences.admit(key.as_str(), tags, ticket, || {
            self.admit_local(local, key, &entry);
        });
        admitted.then_some(Some(entry)).ok_or(Refused)
    }

    /// Stamps `entry` with the fence clock and stores it; call it under the fence lock that
    /// admits it.
    fn admit_local(&self, local: &LocalTier, key: &CacheKey, entry: &Arc<LocalEntry>) {
        entry.set_admitted(self.inner.fences.now());
        local.insert(key.clone(), Arc::clone(entry));
    }

    /// Backfills a value found in the remote tier into the tiers above.
    pub(crate) fn keep_found<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
        found: &Found<T>,
    ) {
        let scoped = opts.uses(Tiers::REQUEST) && request::in_request_scope();
        if self.local_for(opts).is_none() && !scoped {
            // No tier above to keep it: the value is not copied into a shared one for nothing.
            return;
        }
        let size = (found.meta, found.weight);
        if let Ok(entry) = self.put_local(key, opts, &found.value, size, found.token, found.ticket)
        {
            self.backfill_request(key, opts, || found.held(entry), found.ticket);
        }
    }

    /// Records a load's outcome (timing, errors) and stores an `Ok` value per `plan`.
    pub(crate) async fn store_load<T: Cacheable, E>(
        &self,
        key: &CacheKey,
        opts: &Options,
        result: &Result<T, E>,
        took: Duration,
        plan: FillPlan,
    ) -> Kept {
        let failed = result.is_err();
        let recorder = &self.inner.recorder;
        recorder.record(Event::LoadEnded(key.cache_name(), took, failed));
        let Ok(value) = result else {
            return Kept::Nothing;
        };
        let Some((bytes, meta, weight)) = self.encode(key, value, opts, took) else {
            return Kept::Nothing;
        };
        let mut token = None;
        let (mut landed, mut plain_landed) = (false, false);
        if let Some(remote) = self.remote_for(opts) {
            let written = match plan.remote {
                RemoteFill::Fenced(fence) => remote.fill(key, &bytes, &meta, opts, fence).await,
                RemoteFill::Plain(generation) => {
                    let set = remote.set(key, &bytes, &meta, opts, generation);
                    set.await.map(|landed| {
                        plain_landed = landed;
                        None
                    })
                }
                RemoteFill::Skip => Ok(None),
                RemoteFill::Overwrite => {
                    let tags = opts.tag_list();
                    if !self
                        .inner
                        .fences
                        .still_valid(key.as_str(), tags, plan.ticket)
                    {
                        recorder.record(Event::FencedFill);
                        return Kept::Fenced;
                    }
                    remote.write(key, &bytes, &meta, opts).await
                }
            };
            match written {
                Ok(Some(stored)) => (token, landed) = (Some(stored), true),
                Ok(None) if matches!(plan.remote, RemoteFill::Fenced(_)) => {
                    recorder.record(Event::FencedFill);
                    // What this node holds is older than what the remote tier now has (or was
                    // invalidated): the next read should go there.
                    if let Some(local) = self.local_for(opts) {
                        local.invalidate(key.as_str());
                    }
                    return Kept::Fenced;
                }
                // A plain set reports whether it landed (it does not in a newer generation); an
                // overwrite on a tier without tokens has landed.
                Ok(None) => {
                    landed = plain_landed || matches!(plan.remote, RemoteFill::Overwrite);
                }
                // Unknown whether it landed (counted); the local copy is still fenced by the
                // ticket, and an invalidation elsewhere reaches it through the backplane.
                Err(_) => {}
            }
        }
        match self.store_upper(key, value, opts, (meta, weight), token, plan.ticket) {
            Kept::Yes if !landed => Kept::Local,
            kept => kept,
        }
    }

    /// Stores a loaded value in the request and local tiers, fenced by `ticket`.
    pub(crate) fn store_upper<T: Cacheable>(
        &self,
        key: &CacheKey,
        value: &T,
        opts: &Options,
        size: (EntryMeta, usize),
        token: Option<Token>,
        ticket: Ticket,
    ) -> Kept {
        let Ok(entry) = self.put_local(key, opts, value, size, token, ticket) else {
            self.inner.recorder.record(Event::FencedFill);
            return Kept::Fenced;
        };
        self.backfill_request(key, opts, || Held::of(entry, value), ticket);
        Kept::Yes
    }

    /// A sync load's outcome: request and local tiers only.
    pub(crate) fn store_load_sync<T: Cacheable, E>(
        &self,
        key: &CacheKey,
        opts: &Options,
        result: &Result<T, E>,
        took: Duration,
        ticket: Ticket,
    ) {
        let failed = result.is_err();
        let ended = Event::LoadEnded(key.cache_name(), took, failed);
        self.inner.recorder.record(ended);
        let Ok(value) = result else {
            return;
        };
        // The local tier weighs the envelope it would write; encode only to learn its size.
        let size = match self.encode(key, value, opts, took) {
            Some((_, meta, weight)) => (meta, weight),
            None => (self.new_meta(opts, took), std::mem::size_of::<T>()),
        };
        self.store_upper(key, value, opts, size, None, ticket);
    }

    /// An authoritative write: the remote tier first (voiding every fence on the key), then
    /// this node's tiers in the same step as a tombstone for older fills, then the backplane.
    pub(crate) async fn write_everywhere<T: Cacheable>(
        &self,
        key: &CacheKey,
        value: &T,
        opts: &Options,
    ) {
        let Some((bytes, meta, weight)) = self.encode(key, value, opts, Duration::ZERO) else {
            return;
        };
        let mut token = None;
        if let Some(remote) = self.remote_for(opts) {
            // A failure is counted; other nodes still hear of the change below.
            token = remote.write(key, &bytes, &meta, opts).await.unwrap_or(None);
        }
        let local = self
            .local_for(opts)
            .map(|local| (local, local_entry(value, (meta, weight), opts, token)));
        self.inner.fences.invalidate(Scope::Key(key.as_str()), || {
            if let Some((local, entry)) = &local {
                self.admit_local(local, key, entry);
            }
        });
        self.inner.flights.detach(key.as_str());
        request::remove(self.inner.id, key.as_str());
        let entry = local.map(|(_, entry)| entry);
        self.backfill_request(key, opts, || Held::of(entry, value), self.ticket());
        if let Some(remote) = self.remote() {
            remote.announce_key(key).await;
        }
    }

    /// Fresh lifetimes for a value stored now with `opts` (a loader's [`Entry`](crate::Entry)
    /// decisions are already in them).
    fn new_meta(&self, opts: &Options, load_time: Duration) -> EntryMeta {
        let now = clock::now_ms();
        let ttl = opts.ttl_value().unwrap_or(self.inner.default_ttl);
        let (stale, jitter) = (opts.stale_value(), opts.jitter_value());
        freshness::new_meta(now, ttl, stale, jitter, load_time)
    }

    /// The envelope of `value` with fresh lifetimes, and its weight in the local tier (its
    /// length before compression); an encoding failure is counted.
    fn encode<T: Cacheable>(
        &self,
        key: &CacheKey,
        value: &T,
        opts: &Options,
        load_time: Duration,
    ) -> Option<(Vec<u8>, EntryMeta, usize)> {
        let meta = self.new_meta(opts, load_time);
        match self.inner.codec.encode_weighed(value, meta) {
            Ok((bytes, weight)) => {
                let encoded = Event::Encoded(key.cache_name(), bytes.len());
                self.inner.recorder.record(encoded);
                Some((bytes, meta, weight))
            }
            Err(error) => {
                // Encoding happens before any tier is written: counted against the local tier.
                count_failure(&self.inner.recorder, TierName::Local, &error, "encode");
                None
            }
        }
    }
}

/// A local entry holding a copy of `value`, not yet admitted (see `Cache::admit_local`).
fn local_entry<T: Cacheable>(
    value: &T,
    (meta, weight): (EntryMeta, usize),
    opts: &Options,
    token: Option<Token>,
) -> Arc<LocalEntry> {
    LocalEntry::shared(value.clone(), meta, weight, opts.shared_tags(), token)
}
