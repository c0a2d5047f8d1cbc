//! What a call's feature flag lets it do, decided in one place for the async and the sync
//! path: use the cache, bypass it (counted), or shadow it — load fresh, compare with what is
//! cached, count the verdict, return the fresh value.

use std::time::{Duration, Instant};

use super::Cache;
use super::read::Upper;
use super::run::Run;
use crate::entry::{Decision, Entry};
use crate::metrics::Event;
use crate::tier::Ticket;
use crate::{CacheKey, Cacheable, FlagMode, Options};

/// The flag's answer for one call.
pub(crate) enum Admission {
    /// Use the cache.
    Cache,
    /// Call the loader and nothing else (already counted as a bypass).
    Bypass,
    /// Shadow mode; the ticket was taken before anything cached is read, so a fresh value
    /// stored afterwards is fenced by it.
    Shadow(Ticket),
}

impl Cache {
    /// Asks the flag of `key` (or of `opts`) what this call may do.
    #[inline]
    pub(crate) fn admit(&self, key: &CacheKey, opts: &Options) -> Admission {
        match self.inner.flags.decide(opts.flag_name(key), key) {
            FlagMode::On => Admission::Cache,
            FlagMode::Shadow => Admission::Shadow(self.ticket()),
            FlagMode::Off | FlagMode::Percent(_) => {
                self.inner.recorder.record(Event::Bypass(key.cache_name()));
                Admission::Bypass
            }
        }
    }

    /// Shadow mode on the async path: compares with a fresh value from any tier.
    pub(crate) async fn shadow<T, E, R>(
        &self,
        key: &CacheKey,
        opts: &Options,
        run: R,
        ticket: Ticket,
    ) -> Result<T, E>
    where
        T: Cacheable,
        R: Run<T, E>,
    {
        let cached = self.read_fresh::<T>(key, opts).await;
        let started = Instant::now();
        let (fresh, decision) = Decision::split(run.load_only().await);
        let fresh = fresh?;
        let store_with = decision.options(opts);
        let took = started.elapsed();
        self.judge_shadow(key, store_with.as_deref(), cached, &fresh, took, ticket);
        Ok(fresh)
    }

    /// Shadow mode on the sync path: compares with a fresh value from the upper tiers.
    pub(crate) fn shadow_sync<T, E, F>(
        &self,
        key: &CacheKey,
        opts: &Options,
        load: F,
        ticket: Ticket,
    ) -> Result<T, E>
    where
        T: Cacheable,
        F: FnOnce() -> Result<Entry<T>, E>,
    {
        let cached = match self.read_upper::<T>(key, opts) {
            Upper::Hit(value) => Some(value),
            Upper::Refresh(..) | Upper::Miss => None,
        };
        let (fresh, decision) = Decision::split(load());
        let fresh = fresh?;
        let store_with = decision.options(opts);
        self.judge_shadow(
            key,
            store_with.as_deref(),
            cached,
            &fresh,
            Duration::ZERO,
            ticket,
        );
        Ok(fresh)
    }

    /// Counts whether the cached value encodes the same as the fresh one. With nothing
    /// cached, keeps the fresh value here (with `store_with`, the options the loader's entry
    /// decided; `None`: it is not cached) — not in the remote tier, where without a lease it
    /// could land after another node's invalidation.
    fn judge_shadow<T: Cacheable>(
        &self,
        key: &CacheKey,
        store_with: Option<&Options>,
        cached: Option<T>,
        fresh: &T,
        took: Duration,
        ticket: Ticket,
    ) {
        match cached {
            Some(cached) => {
                let encoded = |value: &T| rmp_serde::to_vec_named(value).ok();
                let same = encoded(&cached) == encoded(fresh);
                self.inner
                    .recorder
                    .record(Event::Shadow(key.cache_name(), same));
            }
            None => {
                if let Some(opts) = store_with {
                    let loaded = Ok::<_, ()>(fresh.clone());
                    self.store_load_sync(key, opts, &loaded, took, ticket);
                }
            }
        }
    }
}
