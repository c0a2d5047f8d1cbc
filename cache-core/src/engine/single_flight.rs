//! One load per key per process, with hand-over when the leader is cancelled.
//!
//! The first caller for a cold key becomes the leader and loads; later callers wait on a
//! `watch` channel for its outcome. If the leader's future is dropped before it finishes (the
//! client hung up), its guard marks the flight abandoned, every waiter wakes, and one of them
//! becomes the new leader with its own loader — nobody waits forever and nobody sees an error
//! that was never produced.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::CacheKey;
use crate::tier::SharedValue;

/// The outcome a leader shares: a type-erased `Result<T, E>`.
#[derive(Clone)]
pub(crate) enum FlightState {
    Pending,
    Done(SharedValue),
    Abandoned,
}

#[derive(Default)]
pub(crate) struct SingleFlight {
    flights: Mutex<HashMap<CacheKey, Arc<watch::Sender<FlightState>>>>,
}

pub(crate) enum Role<'a> {
    Leader(LeaderGuard<'a>),
    Waiter(watch::Receiver<FlightState>),
}

/// What a waiter saw.
pub(crate) enum Waited {
    Done(SharedValue),
    Abandoned,
    TimedOut,
}

impl SingleFlight {
    /// Joins the flight for `key`, starting one (as its leader) if none is in the air.
    pub(crate) fn join(&self, key: &CacheKey) -> Role<'_> {
        let mut flights = self.flights.lock();
        if let Some(sender) = flights.get(key) {
            return Role::Waiter(sender.subscribe());
        }
        let (sender, _) = watch::channel(FlightState::Pending);
        let sender = Arc::new(sender);
        flights.insert(key.clone(), Arc::clone(&sender));
        Role::Leader(LeaderGuard {
            flights: self,
            key: key.clone(),
            sender,
            finished: false,
        })
    }

    /// Number of loads in the air (for tests and introspection).
    pub(crate) fn in_flight(&self) -> usize {
        self.flights.lock().len()
    }

    fn finish(&self, key: &CacheKey, sender: &Arc<watch::Sender<FlightState>>, state: FlightState) {
        {
            let mut flights = self.flights.lock();
            // Only remove our own flight: after an abandonment a new leader may own the slot.
            if flights.get(key).is_some_and(|s| Arc::ptr_eq(s, sender)) {
                flights.remove(key);
            }
        }
        sender.send_replace(state);
    }
}

/// Held by the caller that loads. Completing it wakes the waiters with the outcome; dropping it
/// unfinished wakes them with `Abandoned`.
pub(crate) struct LeaderGuard<'a> {
    flights: &'a SingleFlight,
    key: CacheKey,
    sender: Arc<watch::Sender<FlightState>>,
    finished: bool,
}

impl LeaderGuard<'_> {
    pub(crate) fn complete(mut self, outcome: SharedValue) {
        self.finished = true;
        self.flights
            .finish(&self.key, &self.sender, FlightState::Done(outcome));
    }
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.flights
                .finish(&self.key, &self.sender, FlightState::Abandoned);
        }
    }
}

/// Waits for the leader's outcome, at most `limit` when given.
pub(crate) async fn wait(mut rx: watch::Receiver<FlightState>, limit: Option<Duration>) -> Waited {
    let settled = async {
        match rx
            .wait_for(|s| !matches!(s, FlightState::Pending))
            .await
            .map(|s| s.clone())
        {
            Ok(FlightState::Done(v)) => Waited::Done(v),
            // A closed channel means the leader vanished without reporting: take over.
            Ok(_) | Err(_) => Waited::Abandoned,
        }
    };
    match limit {
        Some(limit) => tokio::time::timeout(limit, settled)
            .await
            .unwrap_or(Waited::TimedOut),
        None => settled.await,
    }
}

/// Keys being refreshed right now; the first caller to find an entry stale refreshes it and
/// everyone else is served the stale value.
#[derive(Default)]
pub(crate) struct RefreshSet {
    keys: Mutex<HashSet<CacheKey>>,
}

pub(crate) struct RefreshGuard<'a> {
    set: &'a RefreshSet,
    key: CacheKey,
}

impl RefreshSet {
    pub(crate) fn try_acquire(&self, key: &CacheKey) -> Option<RefreshGuard<'_>> {
        self.keys.lock().insert(key.clone()).then(|| RefreshGuard {
            set: self,
            key: key.clone(),
        })
    }
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        self.set.keys.lock().remove(&self.key);
    }
}
