//! `get_or_load_many`: one lookup per tier and one loader call for a whole batch of ids.
//!
//! The batch looks every key up in the request and local tiers, joins or starts the key's
//! single flight, and hands the keys it leads to [`lead`]: one `MGET` (per slot in Cluster),
//! concurrent leases, one loader call, concurrent fenced fills. Keys another caller is loading
//! are waited for at the same time, never before the batch's own load: two batches that lead
//! each other's keys would otherwise wait for each other forever.

mod lead;
mod remote;

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;

use futures_util::future::{join, join_all};

use super::Cache;
use super::admit::Admission;
use super::freshness::Freshness;
use super::read::Upper;
use super::single_flight::{LeaderKind, Role, Waited};
use crate::metrics::Event;
use crate::stats::TierName;
use crate::{CacheKey, Cacheable, Options, Tiers};
use lead::{Absent, Led, NotReturned};

impl Cache {
    /// Returns the values of many ids at once, calling `load` once with only the ids no tier
    /// had, and caching what it returns in every tier the options allow.
    ///
    /// The result is aligned with `ids` (`None`: the loader did not return that id). An id
    /// given twice is looked up and loaded once and answered in both places.
    ///
    /// **Lookup.** The request and local tiers per key, then one remote round trip for the
    /// rest (`MGET`; one per hash slot in Redis Cluster). A fresh value, or one XFetch would
    /// refresh early, is served as is. A *stale* value is treated as missing and loaded with
    /// the batch: refreshing it inline would need a loader call per key, and serving it
    /// without refreshing would never refresh it. (Fail-safe does not apply either: a loader
    /// error fails the batch.)
    ///
    /// **Single flight.** Every missing key joins the process-wide flight of that key, shared
    /// with [`get_or_load`](Cache::get_or_load) and other batches: an id another caller is
    /// loading is waited for, not loaded again, and the ids this batch leads go to one loader
    /// call. Waiting happens concurrently with this batch's own load, so overlapping batches
    /// cannot deadlock. `load` is `FnMut` because of one rare case: when a load this batch
    /// waited for was abandoned (its caller was cancelled) or shared a value of another type,
    /// the batch loads those ids itself in a second call.
    ///
    /// **Ids the loader does not return** are `None` and not cached; single callers waiting
    /// on such an id load it themselves. With [`Options::none_ttl`] they are cached as absent
    /// for that long, stored as `Option<T>` exactly like
    /// [`get_or_load_option`](Cache::get_or_load_option) stores them, so one key must not be
    /// read with and without `none_ttl`. Ids returned but not asked for are ignored.
    ///
    /// **Loader errors** are returned, and shared with every caller waiting on an id the
    /// batch leads; nothing of that loader call is written anywhere. If a load this batch
    /// waited for failed with an error of the same type, the batch returns that error too.
    ///
    /// **Across nodes: a lease per id.** The leases of all missing ids are taken concurrently,
    /// which pipelines them on the multiplexed Redis connection (one round trip, not one per
    /// id). Ids whose lease another node holds are awaited like in `get_or_load`; a per-batch
    /// lease could not stop a single call or a differently shaped batch of another node from
    /// loading the same id. Each fill is fenced by its own lease and the fence ticket taken
    /// before the lookup, so an [`invalidate`](Cache::invalidate) during the load keeps the
    /// loaded value out of every tier, exactly as for a single load.
    ///
    /// **Flags** are decided per key: an id whose flag is off (or shadow) is passed to the
    /// same loader call and returned, never cached. Metrics count every key as a single call
    /// would (hits, misses, loads, coalesced waits); the load duration is recorded per key.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::Mutex;
    /// use cache_core::{Cache, CacheKey, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let cache = Cache::builder().build();
    /// let asked = Mutex::new(Vec::new());
    /// let load = |ids: Vec<u32>| {
    ///     asked.lock().unwrap().push(ids.clone());
    ///     let found: HashMap<u32, String> =
    ///         ids.into_iter().filter(|id| *id != 404).map(|id| (id, format!("user {id}"))).collect();
    ///     async move { Ok::<_, String>(found) }
    /// };
    /// let key_of = |id: &u32| CacheKey::new("user", id);
    /// let first = cache.get_or_load_many([2, 1], key_of, &Options::new(), load).await;
    /// assert_eq!(first, Ok(vec![Some("user 2".to_string()), Some("user 1".to_string())]));
    /// let second = cache.get_or_load_many([1, 404, 3], key_of, &Options::new(), load).await;
    /// assert_eq!(second.unwrap()[1], None, "the loader did not return 404");
    /// assert_eq!(asked.into_inner().unwrap(), vec![vec![2, 1], vec![404, 3]]);
    /// # }
    /// ```
    pub async fn get_or_load_many<I, T, E, K, F, Fut>(
        &self,
        ids: impl IntoIterator<Item = I>,
        key_of: K,
        opts: &Options,
        mut load: F,
    ) -> Result<Vec<Option<T>>, E>
    where
        I: Clone + Eq + Hash,
        T: Cacheable,
        E: Clone + Send + Sync + 'static,
        K: Fn(&I) -> CacheKey,
        F: FnMut(Vec<I>) -> Fut,
        Fut: Future<Output = Result<HashMap<I, T>, E>>,
    {
        if opts.none_ttl_value().is_none() {
            return self.batch(ids, key_of, opts, load, None).await;
        }
        // Stored as `Option<T>`, like `get_or_load_option`: a missing id is a cached `None`,
        // which lives exactly `none_ttl` (no jitter, no stale window), as a single load's does.
        let absent = Absent {
            value: None,
            opts: crate::entry::none_ttl_options(opts),
        };
        let load = move |ids| {
            let loading = load(ids);
            async move {
                let found = loading.await?;
                Ok(found.into_iter().map(|(id, v)| (id, Some(v))).collect())
            }
        };
        let found = self.batch(ids, key_of, opts, load, Some(absent)).await?;
        Ok(found.into_iter().map(Option::flatten).collect())
    }

    /// The engine of [`get_or_load_many`](Cache::get_or_load_many), storing values of type `S`;
    /// `absent` is what an id the loader did not return is stored (and answered) as, if any,
    /// and with which options.
    async fn batch<I, S, E, K, F, Fut>(
        &self,
        ids: impl IntoIterator<Item = I>,
        key_of: K,
        opts: &Options,
        mut load: F,
        absent: Option<Absent<S>>,
    ) -> Result<Vec<Option<S>>, E>
    where
        I: Clone + Eq + Hash,
        S: Cacheable,
        E: Clone + Send + Sync + 'static,
        K: Fn(&I) -> CacheKey,
        F: FnMut(Vec<I>) -> Fut,
        Fut: Future<Output = Result<HashMap<I, S>, E>>,
    {
        let (keys, positions) = distinct(ids, &key_of);
        let mut answers: Vec<Option<S>> = vec![None; keys.len()];
        let (mut missing, mut bypassed) = (Vec::new(), Vec::new());
        for (slot, (_, key)) in keys.iter().enumerate() {
            if !self.admitted(key, opts) {
                bypassed.push(slot);
                continue;
            }
            match self.read_upper::<S>(key, opts) {
                Upper::Hit(value) => answers[slot] = Some(value),
                Upper::Refresh(found, Freshness::EarlyRefresh) => {
                    let hit = Event::Hit(key.cache_name(), TierName::Local);
                    self.inner.recorder.record(hit);
                    answers[slot] = Some(found.value);
                }
                Upper::Refresh(..) | Upper::Miss => missing.push(slot),
            }
        }
        // A request-only value may depend on the request itself: never share its load.
        let shared = opts.uses(Tiers::LOCAL) || opts.uses(Tiers::REMOTE);
        // Ids whose flight shared a value of another type: loaded without a flight.
        let mut alone = Vec::new();
        while !(missing.is_empty() && bypassed.is_empty() && alone.is_empty()) {
            let (mut led, mut joined) = (Vec::new(), Vec::new());
            for slot in missing.drain(..) {
                match shared.then(|| self.inner.flights.join(&keys[slot].1, LeaderKind::Async)) {
                    Some(Role::Waiter(flight)) => joined.push((slot, flight)),
                    Some(Role::Leader(guard)) => led.push(Led::new(slot, Some(guard))),
                    None => led.push(Led::new(slot, None)),
                }
            }
            led.extend(alone.drain(..).map(|slot| Led::new(slot, None)));
            let bypass = std::mem::take(&mut bypassed);
            let leading = self.lead(&keys, led, &bypass, opts, &mut load, absent.as_ref());
            let waiting = join_all(
                joined
                    .iter()
                    .map(|(slot, flight)| async move { (*slot, flight.wait(None).await) }),
            );
            let (loaded, waited) = join(leading, waiting).await;
            let mut failure = None;
            match loaded {
                Ok(values) => values.into_iter().for_each(|(slot, v)| answers[slot] = v),
                Err(error) => failure = Some(error),
            }
            for (slot, outcome) in waited {
                let outcome = match outcome {
                    Waited::Done(outcome) => outcome,
                    Waited::Abandoned | Waited::TimedOut => {
                        missing.push(slot);
                        continue;
                    }
                };
                let coalesced = Event::Coalesced(keys[slot].1.cache_name());
                if let Some(result) = outcome.downcast_ref::<Result<S, E>>() {
                    self.inner.recorder.record(coalesced);
                    match result {
                        Ok(value) => answers[slot] = Some(value.clone()),
                        Err(error) => failure = failure.or_else(|| Some(error.clone())),
                    }
                } else if outcome.downcast_ref::<NotReturned>().is_some() {
                    self.inner.recorder.record(coalesced);
                } else {
                    alone.push(slot);
                }
            }
            if let Some(error) = failure {
                return Err(error);
            }
        }
        Ok(positions
            .into_iter()
            .map(|slot| answers[slot].clone())
            .collect())
    }

    /// Whether the flag lets the cache answer for `key`; off and shadow are counted as a bypass.
    fn admitted(&self, key: &CacheKey, opts: &Options) -> bool {
        match self.admit(key, opts) {
            Admission::Cache => true,
            Admission::Bypass => false,
            Admission::Shadow(_) => {
                self.inner.recorder.record(Event::Bypass(key.cache_name()));
                false
            }
        }
    }
}

/// The distinct ids with their keys, and for each input position the index of its id.
fn distinct<I: Clone + Eq + Hash>(
    ids: impl IntoIterator<Item = I>,
    key_of: impl Fn(&I) -> CacheKey,
) -> (Vec<(I, CacheKey)>, Vec<usize>) {
    let mut index: HashMap<I, usize> = HashMap::new();
    let mut keys = Vec::new();
    let positions = ids
        .into_iter()
        .map(|id| {
            *index.entry(id.clone()).or_insert_with(|| {
                keys.push((id.clone(), key_of(&id)));
                keys.len() - 1
            })
        })
        .collect();
    (keys, positions)
}
