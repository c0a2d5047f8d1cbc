//! `get_or_load`: flag → request → local → (single-flight) remote → lease → load.

use std::time::{Duration, Instant};

use super::Cache;
use super::admit::Admission;
use super::freshness::Freshness;
use super::lead_read::{Cold, Led, RemoteMiss};
use super::lease::{LeaseGuard, LeaseState, LeaseWait};
use super::read::Upper;
use super::run::Run;
use super::single_flight::{Waited, share};
use super::store::{FillPlan, Kept, RemoteFill};
use crate::metrics::Event;
use crate::tier::remote::Fence;
use crate::{CacheKey, Cacheable, Entry, Options, Tiers};

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
        match self.admit(key, opts) {
            Admission::Cache if opts.force_refresh_value() => {
                return Box::pin(self.load_forced(key, opts, run))
                    .await
                    .map_err(on_err);
            }
            Admission::Cache => {}
            Admission::Bypass => {
                let loaded = Box::pin(run.load_only()).await;
                return loaded.map(Entry::into_value).map_err(on_err);
            }
            Admission::Shadow(ticket) => {
                return Box::pin(self.shadow(key, opts, run, ticket))
                    .await
                    .map_err(on_err);
            }
        }
        match self.read_upper::<T>(key, opts) {
            Upper::Hit(value) => Ok(value),
            // A request-only value may depend on the request itself: never share a load across
            // scopes.
            Upper::Miss if !opts.uses(Tiers::LOCAL) && !opts.uses(Tiers::REMOTE) => {
                self.inner.recorder.record(Event::Miss);
                let plan = self.unshared_plan();
                let (result, _) = Box::pin(run.load_and_store(self, key, opts, plan)).await;
                result.map_err(on_err)
            }
            Upper::Refresh(found, state) => {
                Ok(Box::pin(self.refresh(key, opts, found, state, run)).await)
            }
            Upper::Miss => Box::pin(self.read_or_load(key, opts, run, on_err, on_timeout)).await,
        }
    }

    /// Nothing usable in the upper tiers: the remote tier, then a load. A Redis hit is served
    /// from this future (a few hundred bytes, boxed by the caller) without reaching the cold
    /// load's, which is kilobytes and boxed again.
    async fn read_or_load<T, E, X, R>(
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
        match self.lead_read::<T, E>(key, opts).await {
            Led::Served(value) => Ok(value),
            first => Box::pin(self.load_cold(key, opts, run, on_err, on_timeout, first)).await,
        }
    }

    /// Nothing usable in the upper tiers and no remote hit (`first`, from
    /// [`lead_read`](Cache::lead_read)): wait for the key's leader, or lead and load.
    async fn load_cold<T, E, X, R>(
        &self,
        key: &CacheKey,
        opts: &Options,
        run: R,
        on_err: fn(E) -> X,
        on_timeout: Option<fn(Duration) -> X>,
        first: Led<'_, T>,
    ) -> Result<T, X>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        R: Run<T, E>,
    {
        let recorder = &self.inner.recorder;
        let mut limit = on_timeout.and(opts.hard_timeout_value());
        let started = Instant::now();
        let mut first = Some(first);
        loop {
            let led = match first.take() {
                Some(led) => led,
                None => self.lead_read::<T, E>(key, opts).await,
            };
            let cold = match led {
                Led::Served(value) => return Ok(value),
                Led::Stale(found) => {
                    return Ok(self.refresh(key, opts, found, Freshness::Stale, run).await);
                }
                Led::Unserved(cold) => cold,
                Led::Waiter(flight) => {
                    let left = limit.map(|l| l.saturating_sub(started.elapsed()));
                    match flight.wait(left).await {
                        Waited::Done(shared) => {
                            let Some(result) = shared.downcast_ref::<Result<T, E>>() else {
                                // Another function with the same key and another type: load alone.
                                let plan = self.unshared_plan();
                                let (result, _) = run.load_and_store(self, key, opts, plan).await;
                                return result.map_err(on_err);
                            };
                            recorder.record(Event::Coalesced(key.cache_name()));
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
            let Cold {
                guard,
                ticket,
                generation,
                remote,
            } = cold;
            let lease = match remote {
                RemoteMiss::Leased(token) if self.is_own(token) => {
                    self.take_lease(key, opts, Some(token)).await
                }
                RemoteMiss::Leased(_) => LeaseState::Elsewhere,
                RemoteMiss::Absent => self.take_lease(key, opts, None).await,
                RemoteMiss::Unreachable => LeaseState::Failed,
            };
            recorder.record(Event::Miss);
            let lease = match lease {
                LeaseState::Elsewhere => match self.await_other_process::<T>(key, opts).await {
                    LeaseWait::Value(value) => {
                        guard.complete(|| share(Ok::<T, E>(value.clone())));
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
                    LeaseState::Unsupported => RemoteFill::Plain(generation),
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
            guard.complete(|| share(result.clone()));
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
}
