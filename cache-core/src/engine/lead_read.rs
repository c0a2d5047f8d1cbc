//! The first step of a read that found nothing in the upper tiers: join the key's flight and,
//! as its leader, ask the remote tier. A remote hit, the most common outcome, ends here; it is
//! kept apart from the rest of a cold load (leases, the loader, waiting for another caller) so
//! the future a caller polls on a Redis hit stays small and is not boxed: that box, a
//! kilobyte-sized allocation and copy, was one of the largest costs of a hit.

use std::sync::Arc;

use super::Cache;
use super::fetch::share;
use super::freshness::Freshness;
use super::read::Found;
use super::read_remote::RemoteRead;
use super::single_flight::{Flight, LeaderGuard, LeaderKind, Role};
use crate::metrics::Event;
use crate::stats::TierName;
use crate::tier::Ticket;
use crate::tier::remote::Token;
use crate::{CacheKey, Cacheable, Options};

/// How the first step of a cold read ended.
pub(crate) enum Led<'a, T> {
    /// A fresh value, served: a flight that ended meanwhile filled the local tier, or the
    /// remote tier had it. Waiters have it too.
    Served(T),
    /// Another caller leads the key's flight.
    Waiter(Arc<Flight>),
    /// This caller led; the remote tier had a stale value, which waiters have been given.
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
    /// Joins `key`'s flight and, as its leader, reads the local tier again and then the
    /// remote tier. `E` is the loader's error type: waiters share a `Result<T, E>`.
    pub(crate) async fn lead_read<T, E>(&self, key: &CacheKey, opts: &Options) -> Led<'_, T>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
    {
        let guard = match self.inner.flights.join(key, LeaderKind::Async) {
            Role::Leader(guard) => guard,
            Role::Waiter(flight) => return Led::Waiter(flight),
        };
        let ticket = self.ticket();
        // Read after the ticket, so a clear that this load's reads may predate has either
        // fenced the ticket or left this generation, which a plain fill then must match.
        let generation = self.generation_now();
        // A flight that finished between our lookup and our join has filled the local tier.
        if let Some(value) = self.peek_local::<T>(key, opts) {
            guard.complete(|| share(Ok::<T, E>(value.clone())));
            return Led::Served(value);
        }
        let remote = match self.read_remote::<T>(key, opts, ticket).await {
            RemoteRead::Found(found, state) => {
                guard.complete(|| share(Ok::<T, E>(found.value.clone())));
                if state == Freshness::Stale {
                    return Led::Stale(found);
                }
                self.inner.recorder.record(Event::Served(TierName::Remote));
                return Led::Served(found.value);
            }
            RemoteRead::Leased(token) => RemoteMiss::Leased(token),
            RemoteRead::Absent => RemoteMiss::Absent,
            RemoteRead::Failed | RemoteRead::Off => RemoteMiss::Unreachable,
        };
        Led::Unserved(Cold {
            guard,
            ticket,
            generation,
            remote,
        })
    }
}
