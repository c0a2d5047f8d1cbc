//! The first step of a read that found nothing in the upper tiers: ask the remote tier, and on
//! a miss join the key's flight. A remote hit, the most common outcome, ends here; it is kept
//! apart from the rest of a cold load (leases, the loader, waiting for another caller) so the
//! future a caller polls on a Redis hit stays small and is not boxed: that box, a
//! kilobyte-sized allocation and copy, was one of the largest costs of a hit, and the flight's
//! bookkeeping (two locked map operations) another.

use std::sync::Arc;

use super::Cache;
use super::freshness::Freshness;
use super::read::Found;
use super::read_remote::RemoteRead;
use super::single_flight::{Flight, LeaderGuard, LeaderKind, Role, share};
use crate::metrics::Event;
use crate::stats::TierName;
use crate::tier::Ticket;
use crate::tier::remote::Token;
use crate::{CacheKey, Cacheable, Options};

/// How the first step of a cold read ended.
pub(crate) enum Led<'a, T> {
    /// A fresh value, served: the remote tier had it, or a flight that ended meanwhile filled
    /// the local tier (then waiters have it too).
    Served(T),
    /// Another caller leads the key's flight.
    Waiter(Arc<Flight>),
    /// The remote tier had a stale value (to serve while one caller refreshes it).
    Stale(Found<T>),
    /// This caller leads and has no value.
    Unserved(Cold<'a>),
}

/// A leader with nothing to serve, and what it needs to load.
pub(crate) struct Cold<'a> {
    pub(crate) guard: LeaderGuard<'a>,
    /// Taken before anything was read: whatever this flight stores is fenced by it.
    pub(crate) ticket: Ticket,
    /// The namespace generation, read after the ticket (see [`Cache::lead_read`]).
    pub(crate) generation: u64,
    pub(crate) remote: RemoteMiss,
}

/// What the remote tier said instead of a value.
pub(crate) enum RemoteMiss {
    /// A loader holds the key's lease (this process's when the token says so).
    Leased(Token),
    /// No entry (or none usable).
    Absent,
    /// The tier failed, or this call does not use one.
    Unreachable,
}

impl Cache {
    /// Asks the remote tier, then, on a miss, joins `key`'s flight (reading the local tier
    /// again as its leader). A load already in the air for `key` is waited for instead: its
    /// value is newer than what the remote tier holds (a forced refresh, a reload after an
    /// invalidation). `E` is the loader's error type: waiters share a `Result<T, E>`.
    ///
    /// The remote tier is read before a flight is joined, as the call order of the design
    /// has it (tiers, then single flight): callers that miss the upper tiers at the same
    /// moment each read the remote tier (one round trip on a multiplexed connection), and a
    /// remote hit costs no flight bookkeeping. Loads stay one per key: only a miss joins.
    pub(crate) async fn lead_read<T, E>(&self, key: &CacheKey, opts: &Options) -> Led<'_, T>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
    {
        // Taken before the flight check: a forced refresh or invalidation that starts after
        // it fences anything this read would keep.
        let ticket = self.ticket();
        if let Some(flight) = self.inner.flights.waiting_on(key) {
            return Led::Waiter(flight);
        }
        // Read after the ticket, so a clear that this load's reads may predate has either
        // fenced the ticket or left this generation, which a plain fill then must match.
        let generation = self.generation_now();
        let remote = match self.read_remote::<T>(key, opts, ticket).await {
            RemoteRead::Found(found, Freshness::Stale) => return Led::Stale(found),
            RemoteRead::Found(found, _) => {
                self.inner.recorder.record(Event::Served(TierName::Remote));
                return Led::Served(found.value);
            }
            RemoteRead::Leased(token) => RemoteMiss::Leased(token),
            RemoteRead::Absent => RemoteMiss::Absent,
            RemoteRead::Failed | RemoteRead::Off => RemoteMiss::Unreachable,
        };
        let guard = match self.inner.flights.join(key, LeaderKind::Async) {
            Role::Leader(guard) => guard,
            Role::Waiter(flight) => return Led::Waiter(flight),
        };
        // A flight that finished since our lookup in the upper tiers has filled the local tier.
        if let Some(value) = self.peek_local::<T>(key, opts) {
            guard.complete(|| share(Ok::<T, E>(value.clone())));
            return Led::Served(value);
        }
        Led::Unserved(Cold {
            guard,
            ticket,
            generation,
            remote,
        })
    }
}
