//! The synchronous entry point: the same engine over the request and local tiers, usable from
//! plain threads and from inside async handlers alike. It never needs a runtime and never calls
//! `block_on`; the only blocking is a thread waiting for another thread's load of the same key.

use std::time::Instant;

use super::Cache;
use super::admit::Admission;
use super::read::Upper;
use super::refresh::RefreshTurn;
use super::single_flight::{LeaderKind, Role, Waited};
use crate::entry::{Decision, Entry};
use crate::metrics::Event;
use crate::tier::Ticket;
use crate::{CacheKey, Cacheable, Options, Tiers};

impl Cache {
    /// [`get_or_load`](Cache::get_or_load) for a synchronous loader, over the request and local
    /// tiers (the remote tier needs I/O and is skipped; use the async API for it).
    ///
    /// Concurrent callers on other threads wait for one load. A sync caller never blocks on a
    /// load led by an async caller — on a single-threaded runtime that could deadlock — and
    /// loads itself instead. Timeouts do not apply: a sync loader cannot be interrupted.
    ///
    /// ```
    /// use cache_core::{Cache, CacheKey, Options};
    /// let cache = Cache::builder().build();
    /// let key = CacheKey::new("fib", &40_u64);
    /// let slow_fib = || Ok::<u64, String>(102_334_155);
    /// assert_eq!(cache.get_or_load_sync(&key, &Options::new(), slow_fib), Ok(102_334_155));
    /// let not_called = || Err::<u64, String>("not called".into());
    /// assert_eq!(cache.get_or_load_sync(&key, &Options::new(), not_called), Ok(102_334_155));
    /// ```
    pub fn get_or_load_sync<T, E, F>(&self, key: &CacheKey, opts: &Options, load: F) -> Result<T, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Result<T, E>,
    {
        self.fetch_sync(key, opts, || load().map(Entry::new))
    }

    /// The sync engine, for a loader that returns [`Entry`]s (a plain value decides nothing).
    pub(crate) fn fetch_sync<T, E, F>(
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
        match self.admit(key, opts) {
            Admission::Cache if opts.force_refresh_value() => {
                return self.load_forced_sync(key, opts, load);
            }
            Admission::Cache => {}
            Admission::Bypass => return load().map(Entry::into_value),
            Admission::Shadow(ticket) => return self.shadow_sync(key, opts, load, ticket),
        }
        match self.read_upper::<T>(key, opts) {
            Upper::Hit(value) => Ok(value),
            Upper::Refresh(found, state) => Ok(match self.refresh_turn(key, opts, found, state) {
                RefreshTurn::Serve(value) => value,
                RefreshTurn::Refresh(_refreshing, found, stale) => {
                    let result = self.load_sync(key, opts, load, found.ticket);
                    self.settle_refresh(key, opts, found, stale, result)
                }
            }),
            Upper::Miss => self.load_cold_sync(key, opts, load),
        }
    }

    fn load_cold_sync<T, E, F>(&self, key: &CacheKey, opts: &Options, load: F) -> Result<T, E>
    where
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Result<Entry<T>, E>,
    {
        let recorder = &self.inner.recorder;
        if !opts.uses(Tiers::LOCAL) {
            // Request-only values may depend on the request: never share a load across scopes.
            recorder.record(Event::Miss);
            return self.load_sync(key, opts, load, self.ticket());
        }
        loop {
            let guard = match self.inner.flights.join(key, LeaderKind::Sync) {
                Role::Leader(guard) => guard,
                Role::Waiter(flight) if flight.kind() == LeaderKind::Async => {
                    recorder.record(Event::Miss);
                    return self.load_sync(key, opts, load, self.ticket());
                }
                Role::Waiter(flight) => match flight.wait_blocking() {
                    Waited::Done(shared) => match shared.downcast_ref::<Result<T, E>>() {
                        Some(result) => {
                            recorder.record(Event::Coalesced(key.cache_name()));
                            return result.clone();
                        }
                        None => return self.load_sync(key, opts, load, self.ticket()),
                    },
                    Waited::Abandoned | Waited::TimedOut => continue,
                },
            };
            let ticket = self.ticket();
            if let Some(value) = self.peek_local::<T>(key, opts) {
                guard.complete(|| std::sync::Arc::new(Ok::<T, E>(value.clone())));
                return Ok(value);
            }
            recorder.record(Event::Miss);
            let result = self.load_sync(key, opts, load, ticket);
            guard.complete(|| std::sync::Arc::new(result.clone()));
            return result;
        }
    }

    /// Calls `load` and stores its value in the upper tiers, fenced by `ticket` (taken before
    /// anything this load depends on was read).
    pub(super) fn load_sync<T, E, F>(
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
        self.inner.recorder.record(Event::LoadStarted);
        let _span = tracing::debug_span!("cache.load", cache.name = key.cache_name()).entered();
        let started = Instant::now();
        let (result, decision) = Decision::split(load());
        let took = started.elapsed();
        match decision.options(opts) {
            Some(opts) => self.store_load_sync(key, &opts, &result, took, ticket),
            None => self.record_uncached_load(key, took),
        }
        result
    }
}
