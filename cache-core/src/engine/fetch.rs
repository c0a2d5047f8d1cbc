//! `get_or_load`: flag → request → local → (single-flight) remote → lease → load.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Cache;
use super::freshness::Freshness;
use super::io::{Found, RemoteRead, Upper};
use super::lease::{LeaseGuard, LeaseState, LeaseWait};
use super::run::Run;
use super::single_flight::{LeaderKind, RefreshGuard, Role, Waited};
use super::store::{FillPlan, Kept, RemoteFill};
use crate::metrics::Lookup;
use crate::stats::{Stats, TierName};
use crate::tier::SharedValue;
use crate::tier::remote::Fence;
use crate::{CacheKey, Cacheable, FlagMode, Options, Tiers, clock};

/// How a timed loader ended.
enum Outcome<R> {
    Done(R),
    /// `soft_timeout` passed while a stale value was available.
    Soft,
    /// `hard_timeout` passed.
    Hard,
}

/// Whether this caller refreshes an entry or is served the current value.
pub(crate) enum RefreshTurn<'a, T> {
    Serve(T),
    Refresh(RefreshGuard<'a>, Found<T>, bool),
}

impl Cache {
    /// The engine behind every `get_or_load` flavour. `on_err` maps the loader's error into the
    /// caller's error type; `on_timeout`, when given, makes `hard_timeout` without a stale value
    /// an error instead of a longer wait.
    pub(crate) async fn fetch<T, E, X, R>(
        &self,
        key: &CacheKey,
        opts: &Options,
        run: R,
        on_err: fn(E) -> X,
        on_timeout: Option<fn(Duration) -> X>,
    ) -> Result<T, X>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        R: Run<T, E>,
    {
        // Every path but the hit is boxed: the hit path is polled on every call and must stay a
        // small future (a few hundred bytes instead of kilobytes to move around).
        match self.inner.flags.decide(opts.flag_name(key), key) {
            FlagMode::On => {}
            FlagMode::Shadow => {
                return Box::pin(self.shadow(key, opts, run)).await.map_err(on_err);
            }
            FlagMode::Off | FlagMode::Percent(_) => {
                Stats::bump(&self.inner.stats.bypassed);
                self.inner
                    .metrics
                    .request(key.cache_name(), None, Lookup::Bypass);
                return Box::pin(run.load_only()).await.map_err(on_err);
            }
        }
        match self.read_upper::<T>(key, opts) {
            Upper::Hit(value) => Ok(value),
            // A request-only value may depend on the request itself: never share a load across
            // scopes.
            Upper::Miss
                if !opts.tiers.contains(Tiers::LOCAL) && !opts.tiers.contains(Tiers::REMOTE) =>
            {
                Stats::bump(&self.inner.stats.misses);
                let plan = self.unshared_plan();
                let (result, _) = Box::pin(run.load_and_store(self, key, opts, plan)).await;
                result.map_err(on_err)
            }
            Upper::Refresh(found, state) => {
                Ok(Box::pin(self.refresh(key, opts, found, state, run)).await)
            }
            Upper::Miss => Box::pin(self.load_cold(key, opts, run, on_err, on_timeout)).await,
        }
    }

    /// Nothing usable in the upper tiers: one leader per key asks the remote tier and loads;
    /// everyone else waits for its outcome.
    async fn load_cold<T, E, X, R>(
        &self,
        key: &CacheKey,
        opts: &Options,
        run: R,
        on_err: fn(E) -> X,
        on_timeout: Option<fn(Duration) -> X>,
    ) -> Result<T, X>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        R: Run<T, E>,
    {
        let stats = &self.inner.stats;
        let mut limit = on_timeout.and(opts.hard_timeout);
        let started = Instant::now();
        loop {
            let guard = match self.inner.flights.join(key, LeaderKind::Async) {
                Role::Leader(guard) => guard,
                Role::Waiter(flight) => {
                    let left = limit.map(|l| l.saturating_sub(started.elapsed()));
                    match flight.wait(left).await {
                        Waited::Done(shared) => {
                            let Some(result) = shared.downcast_ref::<Result<T, E>>() else {
                                // Another function with the same key and another type: load alone.
                                let plan = self.unshared_plan();
                                let (result, _) = run.load_and_store(self, key, opts, plan).await;
                                return result.map_err(on_err);
                            };
                            Stats::bump(&stats.coalesced);
                            self.inner.metrics.coalesced(key.cache_name());
                            return result.clone().map_err(on_err);
                        }
                        Waited::Abandoned => continue,
                        Waited::TimedOut => match (on_timeout, limit) {
                            (Some(timeout), Some(limit)) => return Err(timeout(limit)),
                            _ => {
                                limit = None;
                                continue;
                            }
                        },
                    }
                }
            };
            // Taken before anything is read: whatever this flight stores is fenced by it.
            let ticket = self.ticket();
            // A flight that finished between our lookup and our join has filled the local tier.
            if let Some(value) = self.peek_local::<T>(key, opts) {
                guard.complete(share(Ok::<T, E>(value.clone())));
                return Ok(value);
            }
            let lease = match self.read_remote::<T>(key, opts, ticket).await {
                RemoteRead::Found(found, state) => {
                    guard.complete(share(Ok::<T, E>(found.value.clone())));
                    if state != Freshness::Stale {
                        stats.hit(TierName::Remote);
                        return Ok(found.value);
                    }
                    return Ok(self.refresh(key, opts, found, state, run).await);
                }
                RemoteRead::Leased(token) if self.is_own(token) => {
                    self.take_lease(key, opts, Some(token)).await
                }
                RemoteRead::Leased(_) => LeaseState::Elsewhere,
                RemoteRead::Absent => self.take_lease(key, opts, None).await,
                RemoteRead::Failed | RemoteRead::Off => LeaseState::Failed,
            };
            Stats::bump(&stats.misses);
            let lease = match lease {
                LeaseState::Elsewhere => match self.await_other_process::<T>(key, opts).await {
                    LeaseWait::Value(value) => {
                        guard.complete(share(Ok::<T, E>(value.clone())));
                        return Ok(value);
                    }
                    LeaseWait::Lease(state) => state,
                },
                state => state,
            };
            let plan = FillPlan {
                ticket,
                remote: match lease {
                    LeaseState::Held(token) => RemoteFill::Fenced(Fence::Lease(token)),
                    LeaseState::Unsupported => RemoteFill::Plain,
                    LeaseState::Elsewhere | LeaseState::Failed => RemoteFill::Skip,
                },
            };
            // Released if this load ends without filling the key, even by cancellation.
            let lease = LeaseGuard::new(self, key, lease);
            let load = run.load_and_store(self, key, opts, plan);
            let (result, kept) = match (limit, on_timeout) {
                (Some(hard), Some(timeout)) => {
                    let left = hard.saturating_sub(started.elapsed());
                    match tokio::time::timeout(left, load).await {
                        Ok(outcome) => outcome,
                        Err(_) => {
                            // Dropping the guard hands the load over to a waiter.
                            lease.release().await;
                            return Err(timeout(hard));
                        }
                    }
                }
                _ => load.await,
            };
            if kept == Kept::Yes {
                lease.filled();
            } else {
                lease.release().await;
            }
            guard.complete(share(result.clone()));
            return result.map_err(on_err);
        }
    }

    /// A load that shares nothing with the flight (type clash): fenced locally, not remotely.
    fn unshared_plan(&self) -> FillPlan {
        FillPlan {
            ticket: self.ticket(),
            remote: RemoteFill::Skip,
        }
    }

    /// Serves `found` (stale, or fresh but picked for early refresh). The first caller for the
    /// key refreshes it inline; everyone else is answered with `found` at once.
    async fn refresh<T, E, R>(
        &self,
        key: &CacheKey,
        opts: &Options,
        found: Found<T>,
        state: Freshness,
        run: R,
    ) -> T
    where
        T: Cacheable,
        R: Run<T, E>,
    {
        let (_refreshing, found, stale) = match self.refresh_turn(key, opts, found, state) {
            RefreshTurn::Serve(value) => return value,
            RefreshTurn::Refresh(guard, found, stale) => (guard, found, stale),
        };
        let stats = &self.inner.stats;
        let plan = FillPlan {
            ticket: found.ticket,
            // The refresh lands only while the entry it refreshes is still in place.
            remote: match found.token {
                Some(token) => RemoteFill::Fenced(Fence::Entry(token)),
                None if self.remote_for(opts).is_some() => RemoteFill::Skip,
                None => RemoteFill::Plain,
            },
        };
        match run_timed(run.load_and_store(self, key, opts, plan), opts).await {
            Outcome::Done((result, _)) => self.settle_refresh(key, opts, found, stale, result),
            Outcome::Soft | Outcome::Hard => {
                Stats::bump(&stats.stale_served);
                self.backfill_request(key, opts, &found.shared, found.ticket);
                found.value
            }
        }
    }

    /// Decides who refreshes `found`: the first caller gets the guard, the others are served.
    pub(crate) fn refresh_turn<T>(
        &self,
        key: &CacheKey,
        opts: &Options,
        found: Found<T>,
        state: Freshness,
    ) -> RefreshTurn<'_, T> {
        let stats = &self.inner.stats;
        let stale = state == Freshness::Stale;
        let result = if stale { Lookup::Stale } else { Lookup::Hit };
        self.inner
            .metrics
            .request(key.cache_name(), Some(TierName::Local), result);
        let Some(guard) = self.inner.refreshing.try_acquire(key) else {
            if stale {
                Stats::bump(&stats.stale_served);
            } else {
                stats.hit(TierName::Local);
            }
            self.backfill_request(key, opts, &found.shared, found.ticket);
            return RefreshTurn::Serve(found.value);
        };
        if !stale {
            Stats::bump(&stats.early_refreshes);
        }
        RefreshTurn::Refresh(guard, found, stale)
    }

    /// The value a refresher returns: the new one, or on failure the one it was refreshing
    /// (fail-safe), which then counts as fresh for a short while.
    pub(crate) fn settle_refresh<T, E>(
        &self,
        key: &CacheKey,
        opts: &Options,
        found: Found<T>,
        stale: bool,
        result: Result<T, E>,
    ) -> T {
        match result {
            Ok(value) => value,
            Err(_) if stale => {
                Stats::bump(&self.inner.stats.fail_safe);
                self.throttle_after_failure(key, opts, &found);
                found.value
            }
            Err(_) => found.value,
        }
    }

    /// After a failed refresh, let the stale value count as fresh locally for a short while so a
    /// failing backend is not called by every request (FusionCache's fail-safe throttle).
    fn throttle_after_failure<T>(&self, key: &CacheKey, opts: &Options, found: &Found<T>) {
        let mut meta = found.meta;
        meta.fresh_until_ms =
            clock::now_ms().saturating_add(clock::millis(opts.fail_safe_throttle));
        meta.stale_until_ms = meta.stale_until_ms.max(meta.fresh_until_ms);
        // Fenced by the ticket of the read that found it: an invalidation since then wins.
        let size = (meta, found.weight);
        self.put_local(key, opts, &found.shared, size, found.token, found.ticket);
    }

    /// Shadow mode: load fresh, compare with what the cache holds, count, return fresh.
    async fn shadow<T, E, R>(&self, key: &CacheKey, opts: &Options, run: R) -> Result<T, E>
    where
        T: Cacheable,
        R: Run<T, E>,
    {
        let ticket = self.ticket();
        let cached = self.read_fresh::<T>(key, opts).await;
        let started = Instant::now();
        let fresh = run.load_only().await?;
        match cached {
            Some(cached) => self.count_shadow(key.cache_name(), &cached, &fresh),
            // Nothing cached: keep the fresh value here. Not in the remote tier, where without
            // a lease it could land after another node's invalidation.
            None => {
                let took = started.elapsed();
                self.store_load_sync(key, opts, &Ok::<_, E>(fresh.clone()), took, ticket);
            }
        }
        Ok(fresh)
    }

    /// Shadow mode's verdict: does the cached value encode the same as the fresh one?
    pub(crate) fn count_shadow<T: Cacheable>(&self, name: &str, cached: &T, fresh: &T) {
        let same = rmp_serde::to_vec_named(cached).ok() == rmp_serde::to_vec_named(fresh).ok();
        self.inner.metrics.shadow(name, same);
        let stats = &self.inner.stats;
        Stats::bump(if same {
            &stats.shadow_matches
        } else {
            &stats.shadow_mismatches
        });
    }
}

fn share<T: Send + Sync + 'static, E: Send + Sync + 'static>(result: Result<T, E>) -> SharedValue {
    Arc::new(result)
}

/// Awaits a refresh while a stale value is at hand: `soft_timeout` answers with it early,
/// `hard_timeout` stops waiting altogether.
async fn run_timed<R>(load: impl Future<Output = R>, opts: &Options) -> Outcome<R> {
    let mut load = pin!(load);
    let started = Instant::now();
    if let Some(soft) = opts.soft_timeout
        && opts.hard_timeout.is_none_or(|hard| soft < hard)
        && let Ok(result) = tokio::time::timeout(soft, load.as_mut()).await
    {
        return Outcome::Done(result);
    } else if opts
        .soft_timeout
        .is_some_and(|soft| opts.hard_timeout.is_none_or(|hard| soft < hard))
    {
        return Outcome::Soft;
    }
    match opts.hard_timeout {
        Some(hard) => {
            match tokio::time::timeout(hard.saturating_sub(started.elapsed()), load).await {
                Ok(result) => Outcome::Done(result),
                Err(_) => Outcome::Hard,
            }
        }
        None => Outcome::Done(load.await),
    }
}
