//! `get_or_load`: flag → request → local → (single-flight) remote → lease → load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Cache;
use super::admit::Admission;
use super::freshness::Freshness;
use super::lease::{LeaseGuard, LeaseState, LeaseWait};
use super::read::Upper;
use super::read_remote::RemoteRead;
use super::run::Run;
use super::single_flight::{LeaderKind, Role, Waited};
use super::store::{FillPlan, Kept, RemoteFill};
use crate::metrics::Event;
use crate::stats::TierName;
use crate::tier::SharedValue;
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
        let recorder = &self.inner.recorder;
        let mut limit = on_timeout.and(opts.hard_timeout_value());
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
            // Taken before anything is read: whatever this flight stores is fenced by it.
            let ticket = self.ticket();
            // Read after the ticket, so a clear that this load's reads may predate has either
            // fenced the ticket or left this generation, which a plain fill then must match.
            let generation = self.generation_now();
            // A flight that finished between our lookup and our join has filled the local tier.
            if let Some(value) = self.peek_local::<T>(key, opts) {
                guard.complete(|| share(Ok::<T, E>(value.clone())));
                return Ok(value);
            }
            let lease = match self.read_remote::<T>(key, opts, ticket).await {
                RemoteRead::Found(found, state) => {
                    guard.complete(|| share(Ok::<T, E>(found.value.clone())));
                    if state != Freshness::Stale {
                        recorder.record(Event::Served(TierName::Remote));
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

pub(crate) fn share<T: Send + Sync + 'static, E: Send + Sync + 'static>(
    result: Result<T, E>,
) -> SharedValue {
    Arc::new(result)
}
