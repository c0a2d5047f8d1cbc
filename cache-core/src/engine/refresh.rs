//! Refreshing an entry that is stale or picked for early refresh: the first caller for the key
//! refreshes it (inline, within the timeouts) while everyone else is served the current value,
//! and a failed refresh falls back to it (fail-safe).

use std::future::Future;
use std::pin::pin;
use std::time::Instant;

use super::Cache;
use super::freshness::Freshness;
use super::read::Found;
use super::refresh_set::RefreshGuard;
use super::run::Run;
use super::store::{FillPlan, RemoteFill};
use crate::metrics::{Event, Lookup};
use crate::stats::TierName;
use crate::tier::remote::Fence;
use crate::{CacheKey, Cacheable, Options, clock};

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
    /// Serves `found` (stale, or fresh but picked for early refresh). The first caller for the
    /// key refreshes it inline; everyone else is answered with `found` at once.
    pub(crate) async fn refresh<T, E, R>(
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
        let plan = FillPlan {
            ticket: found.ticket,
            // The refresh lands only while the entry it refreshes is still in place.
            remote: match found.token {
                Some(token) => RemoteFill::Fenced(Fence::Entry(token)),
                None if self.remote_for(opts).is_some() => RemoteFill::Skip,
                // Only a tier without tokens gets here (no generation to match but the current).
                None => RemoteFill::Plain(self.generation_now()),
            },
        };
        match run_timed(run.load_and_store(self, key, opts, plan), opts).await {
            Outcome::Done((result, _)) => self.settle_refresh(key, opts, found, stale, result),
            Outcome::Soft | Outcome::Hard => {
                self.inner.recorder.record(Event::StaleServed);
                self.backfill_request(key, opts, || found.shared(), found.ticket);
                found.value
            }
        }
    }

    /// Decides who refreshes `found`: the first caller gets the guard, the others are served.
    pub(crate) fn refresh_turn<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
        found: Found<T>,
        state: Freshness,
    ) -> RefreshTurn<'_, T> {
        let recorder = &self.inner.recorder;
        let stale = state == Freshness::Stale;
        let result = if stale { Lookup::Stale } else { Lookup::Hit };
        recorder.record(Event::Lookup(key.cache_name(), TierName::Local, result));
        let Some(guard) = self.inner.refreshing.try_acquire(key) else {
            recorder.record(if stale {
                Event::StaleServed
            } else {
                Event::Served(TierName::Local)
            });
            self.backfill_request(key, opts, || found.shared(), found.ticket);
            return RefreshTurn::Serve(found.value);
        };
        if !stale {
            recorder.record(Event::EarlyRefresh);
        }
        RefreshTurn::Refresh(guard, found, stale)
    }

    /// The value a refresher returns: the new one, or on failure the one it was refreshing
    /// (fail-safe), which then counts as fresh for a short while.
    pub(crate) fn settle_refresh<T: Cacheable, E>(
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
                self.inner.recorder.record(Event::FailSafe);
                self.throttle_after_failure(key, opts, &found);
                found.value
            }
            Err(_) => found.value,
        }
    }

    /// After a failed refresh, let the stale value count as fresh locally for a short while so a
    /// failing backend is not called by every request (FusionCache's fail-safe throttle).
    fn throttle_after_failure<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
        found: &Found<T>,
    ) {
        let mut meta = found.meta;
        let throttle = clock::millis(opts.fail_safe_throttle_value());
        meta.fresh_until_ms = clock::now_ms().saturating_add(throttle);
        meta.stale_until_ms = meta.stale_until_ms.max(meta.fresh_until_ms);
        // Fenced by the ticket of the read that found it: an invalidation since then wins.
        let size = (meta, found.weight);
        let _ = self.put_local(key, opts, &found.value, size, found.token, found.ticket);
    }
}

/// Awaits a refresh while a stale value is at hand: `soft_timeout` answers with it early,
/// `hard_timeout` stops waiting altogether.
async fn run_timed<R>(load: impl Future<Output = R>, opts: &Options) -> Outcome<R> {
    let mut load = pin!(load);
    let started = Instant::now();
    let (soft, hard) = (opts.soft_timeout_value(), opts.hard_timeout_value());
    // A soft timeout that is not before the hard one never fires.
    if let Some(soft) = soft.filter(|&soft| hard.is_none_or(|hard| soft < hard)) {
        return match tokio::time::timeout(soft, load.as_mut()).await {
            Ok(result) => Outcome::Done(result),
            Err(_) => Outcome::Soft,
        };
    }
    match hard {
        Some(hard) => {
            match tokio::time::timeout(hard.saturating_sub(started.elapsed()), load).await {
                Ok(result) => Outcome::Done(result),
                Err(_) => Outcome::Hard,
            }
        }
        None => Outcome::Done(load.await),
    }
}
