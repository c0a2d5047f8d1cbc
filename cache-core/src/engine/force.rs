//! Forced refresh (`Options::force_refresh`, Rails `force: true`): load now, whatever the
//! tiers hold, and write the value through every tier.
//!
//! Fencing: before loading, the call records a tombstone for the key on this node and starts
//! a new flight in place of any in the air. So a load that began earlier, here, can neither
//! share its (possibly older) value with this call nor store it afterwards in the local tier;
//! the forced value goes to the remote tier as an authoritative write, which voids the remote
//! fence of every older fill (lease or entry token). Callers that miss while the forced load
//! runs join its flight; callers with a hit keep being served what they have until the new
//! value lands.
//!
//! Limits: a forced call never joins another one (each may want a value newer than the one
//! in the air), so concurrent forced calls each load. Forced calls on two nodes at once are
//! last-writer-wins, like [`Cache::set`]; on one node, two forced calls racing between the
//! first one's fence check and its remote write may leave the first one's value remotely.
//! A remote tier without tokens cannot be fenced (older plain writes may land later). The
//! forced load is awaited without `soft_timeout`/`hard_timeout`: there is nothing to serve
//! instead of the value it was asked to refresh.

use super::Cache;
use super::fence::Scope;
use super::run::Run;
use super::single_flight::{LeaderGuard, LeaderKind, share};
use super::store::{FillPlan, Kept, RemoteFill};
use crate::tier::Ticket;
use crate::{CacheKey, Cacheable, Entry, Options};

impl Cache {
    /// Loads `key` now and writes the value through every tier (see the module docs).
    pub(crate) async fn load_forced<T, E, R>(
        &self,
        key: &CacheKey,
        opts: &Options,
        run: R,
    ) -> Result<T, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        R: Run<T, E>,
    {
        let (ticket, guard) = self.fence_out_older(key, LeaderKind::Async);
        let plan = FillPlan {
            ticket,
            remote: RemoteFill::Overwrite,
        };
        let (result, kept) = run.load_and_store(self, key, opts, plan).await;
        guard.complete(|| share(result.clone()));
        if kept == Kept::Yes
            && let Some(remote) = self.remote_for(opts)
        {
            // Other nodes drop their older local copies and read the new value.
            remote.announce_key(key).await;
        }
        result
    }

    /// [`load_forced`](Cache::load_forced) on the sync path (request and local tiers).
    pub(crate) fn load_forced_sync<T, E, F>(
        &self,
        key: &CacheKey,
        opts: &Options,
        load: F,
    ) -> Result<T, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Result<Entry<T>, E>,
    {
        let (ticket, guard) = self.fence_out_older(key, LeaderKind::Sync);
        let result = self.load_sync(key, opts, load, ticket);
        guard.complete(|| share(result.clone()));
        result
    }

    /// Voids every load of `key` that began on this node before now — their stores carry
    /// older tickets than the tombstone, and their flight is replaced — and leads the new one.
    fn fence_out_older(&self, key: &CacheKey, kind: LeaderKind) -> (Ticket, LeaderGuard<'_>) {
        let fences = &self.inner.fences;
        fences.invalidate(Scope::Key(key.as_str()), || {});
        (self.ticket(), self.inner.flights.lead(key, kind))
    }
}
