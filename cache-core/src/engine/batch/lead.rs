//! The keys a batch leads: a last look at the local tier, the remote lookup (see
//! [`remote`](super::remote)), one loader call, and concurrent fills through the same fenced
//! store path as a single load. Each flight is completed as soon as its key is settled.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{join, join_all};
use tracing::Instrument;

use super::super::Cache;
use super::super::lease::LeaseGuard;
use super::super::single_flight::LeaderGuard;
use super::super::store::{FillPlan, Kept};
use crate::metrics::Event;
use crate::{CacheKey, Cacheable, Options};

/// A key this batch leads, with its flight's guard (none when its load is not shared).
pub(super) struct Led<'a> {
    pub(super) slot: usize,
    guard: Option<LeaderGuard<'a>>,
}

impl<'a> Led<'a> {
    pub(super) fn new(slot: usize, guard: Option<LeaderGuard<'a>>) -> Led<'a> {
        Led { slot, guard }
    }

    /// Completes the flight with `outcome`: what callers waiting on this key receive.
    pub(super) fn share<O: Send + Sync + 'static>(self, outcome: O) {
        if let Some(guard) = self.guard {
            guard.complete(move || Arc::new(outcome));
        }
    }
}

/// What an id the loader did not return is stored as (with `none_ttl`: a cached `None`), and
/// with which options.
pub(super) struct Absent<S> {
    pub(super) value: S,
    pub(super) opts: Options,
}

/// What a batch shares for an id its loader did not return (without `none_ttl`). There is no
/// value to share, so a single caller waiting on that id finds another type and loads the id
/// itself, while a waiting batch answers `None`.
pub(super) struct NotReturned;

/// A led key that only the loader can answer, with what its fill is fenced by.
pub(super) struct Cold<'a> {
    pub(super) led: Led<'a>,
    pub(super) plan: FillPlan,
    pub(super) lease: LeaseGuard,
}

impl Cache {
    /// Settles the keys this batch leads and loads the `bypass`ed ones (flag off) without
    /// caching them. Returns each settled slot's answer, or the loader's error.
    pub(super) async fn lead<'a, I, S, E, F, Fut>(
        &'a self,
        keys: &[(I, CacheKey)],
        led: Vec<Led<'a>>,
        bypass: &[usize],
        opts: &Options,
        load: &mut F,
        absent: Option<&Absent<S>>,
    ) -> Result<Vec<(usize, Option<S>)>, E>
    where
        I: Clone + Eq + Hash,
        S: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnMut(Vec<I>) -> Fut,
        Fut: Future<Output = Result<HashMap<I, S>, E>>,
    {
        // Taken before anything is read: whatever this batch stores is fenced by it.
        let ticket = self.ticket();
        let mut answers = Vec::new();
        let mut unknown = Vec::new();
        for led in led {
            // A flight that finished between our lookup and our join has filled the local tier.
            match self.peek_local::<S>(&keys[led.slot].1, opts) {
                Some(value) => {
                    answers.push((led.slot, Some(value.clone())));
                    led.share(Ok::<S, E>(value));
                }
                None => unknown.push(led),
            }
        }
        let (cold, elsewhere) = self
            .lookup_remote::<I, S, E>(keys, unknown, opts, ticket, &mut answers)
            .await;
        // This batch's own keys load while it waits for the keys other nodes are loading.
        let waits = elsewhere.into_iter().map(|led| {
            let key = &keys[led.slot].1;
            self.wait_elsewhere::<S, E>(key, led, opts, ticket)
        });
        let own = self.load_batch(keys, cold, bypass, opts, &mut *load, absent);
        let (own, waited) = join(own, join_all(waits)).await;
        let mut late = Vec::new();
        for waited in waited {
            match waited {
                Ok(cold) => late.push(cold),
                Err((slot, value)) => answers.push((slot, Some(value))),
            }
        }
        match own {
            Ok(own) => answers.extend(own),
            Err(error) => {
                self.fail_cold::<I, S, E>(keys, late, &error, Duration::ZERO)
                    .await;
                return Err(error);
            }
        }
        // The other node gave up (its lease expired or its read failed): load those here.
        answers.extend(self.load_batch(keys, late, &[], opts, load, absent).await?);
        Ok(answers)
    }

    /// Loads the `cold` keys and the `bypass`ed ones (flag off, not cached) with one loader
    /// call, and stores each cold key's value (fenced) as a single load would.
    async fn load_batch<'a, I, S, E, F, Fut>(
        &'a self,
        keys: &[(I, CacheKey)],
        cold: Vec<Cold<'a>>,
        bypass: &[usize],
        opts: &Options,
        load: &mut F,
        absent: Option<&Absent<S>>,
    ) -> Result<Vec<(usize, Option<S>)>, E>
    where
        I: Clone + Eq + Hash,
        S: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnMut(Vec<I>) -> Fut,
        Fut: Future<Output = Result<HashMap<I, S>, E>>,
    {
        let slots: Vec<usize> = (cold.iter().map(|c| c.led.slot))
            .chain(bypass.iter().copied())
            .collect();
        let Some(&first) = slots.first() else {
            return Ok(Vec::new());
        };
        let name = keys[first].1.cache_name();
        let ids: Vec<I> = slots.iter().map(|&slot| keys[slot].0.clone()).collect();
        for _ in &cold {
            self.inner.recorder.record(Event::LoadStarted);
        }
        let span = tracing::debug_span!("cache.load", cache.name = name, cache.batch = ids.len());
        let started = Instant::now();
        let loaded = load(ids).instrument(span).await;
        let took = started.elapsed();
        let found = match loaded {
            Ok(found) => found,
            Err(error) => {
                self.fail_cold::<I, S, E>(keys, cold, &error, took).await;
                return Err(error);
            }
        };
        let mut answers: Vec<_> = (bypass.iter())
            .map(|&slot| (slot, found.get(&keys[slot].0).cloned()))
            .collect();
        let fills = cold.into_iter().map(|cold| {
            let id = &keys[cold.led.slot].0;
            let value = match found.get(id) {
                Some(value) => Some((value, opts)),
                None => absent.map(|absent| (&absent.value, &absent.opts)),
            };
            self.keep_loaded::<S, E>(&keys[cold.led.slot].1, cold, value, took)
        });
        answers.extend(join_all(fills).await);
        Ok(answers)
    }

    /// A failed load of the `cold` keys: their leases go and their waiters get the error.
    async fn fail_cold<I, S: Cacheable, E: Clone + Send + Sync + 'static>(
        &self,
        keys: &[(I, CacheKey)],
        cold: Vec<Cold<'_>>,
        error: &E,
        took: Duration,
    ) {
        let failed = cold.into_iter().map(|cold| async {
            let key = &keys[cold.led.slot].1;
            let ended = Event::LoadEnded(key.cache_name(), took, true);
            self.inner.recorder.record(ended);
            cold.lease.release().await;
            cold.led.share(Err::<S, E>(error.clone()));
        });
        join_all(failed).await;
    }

    /// Stores what the loader returned for one key (fenced, like a single load) and completes
    /// its flight; an id it did not return releases the lease and stores nothing.
    async fn keep_loaded<S: Cacheable, E: Clone + Send + Sync + 'static>(
        &self,
        key: &CacheKey,
        cold: Cold<'_>,
        value: Option<(&S, &Options)>,
        took: Duration,
    ) -> (usize, Option<S>) {
        let slot = cold.led.slot;
        let Some((value, opts)) = value else {
            let ended = Event::LoadEnded(key.cache_name(), took, false);
            self.inner.recorder.record(ended);
            cold.lease.release().await;
            cold.led.share(NotReturned);
            return (slot, None);
        };
        let result = Ok::<S, E>(value.clone());
        match self.store_load(key, opts, &result, took, cold.plan).await {
            Kept::Yes => cold.lease.filled(),
            _ => cold.lease.release().await,
        }
        cold.led.share(result);
        (slot, Some(value.clone()))
    }
}
