//! One load per key per process, with hand-over when the leader is cancelled.
//!
//! The first caller for a cold key becomes the leader and loads; later callers wait for its
//! outcome — async callers on a `watch` channel, sync callers on a condition variable, so both
//! kinds share one flight. If the leader goes away before it finishes (its future was dropped
//! because the client hung up, or its loader panicked), its guard marks the flight abandoned,
//! every waiter wakes, and one of them becomes the new leader with its own loader: nobody waits
//! forever and nobody sees an error that was never produced.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
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

/// Who leads a flight. A sync caller never blocks its thread on an async leader: on a
/// single-threaded runtime that leader might need the very thread the sync caller would block.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeaderKind {
    Async,
    Sync,
}

pub(crate) struct Flight {
    kind: LeaderKind,
    /// Callers that joined as waiters; changed only under the flights' lock while the flight
    /// is in the map, so once it is out of the map the count is final.
    waiters: AtomicUsize,
    /// Made by the first waiter (or by `finish` for it): a leader alone never needs one.
    state: OnceLock<watch::Sender<FlightState>>,
    settled: Mutex<bool>,
    wake_sync: Condvar,
}

/// Keyed with foldhash, randomly seeded per process like the local tier's map: every cold
/// read inserts and removes its key, and SipHash was a visible part of that.
type Flights = HashMap<CacheKey, Arc<Flight>, foldhash::fast::RandomState>;

#[derive(Default)]
pub(crate) struct SingleFlight {
    flights: Mutex<Flights>,
}

pub(crate) enum Role<'a> {
    Leader(LeaderGuard<'a>),
    Waiter(Arc<Flight>),
}

/// What a waiter saw.
pub(crate) enum Waited {
    Done(SharedValue),
    Abandoned,
    TimedOut,
}

impl SingleFlight {
    /// Joins the flight for `key`, starting one (as its leader) if none is in the air.
    pub(crate) fn join(&self, key: &CacheKey, kind: LeaderKind) -> Role<'_> {
        let mut flights = self.flights.lock();
        if let Some(flight) = flights.get(key) {
            flight.waiters.fetch_add(1, Relaxed);
            return Role::Waiter(Arc::clone(flight));
        }
        Role::Leader(self.start(&mut flights, key, kind))
    }

    /// Starts a flight for `key` led by the caller, replacing any in the air (a forced
    /// refresh must not share a load that began before it): callers already waiting on the
    /// older flight still get its outcome, callers that join from now on get this one's.
    pub(crate) fn lead(&self, key: &CacheKey, kind: LeaderKind) -> LeaderGuard<'_> {
        self.start(&mut self.flights.lock(), key, kind)
    }

    fn start(&self, flights: &mut Flights, key: &CacheKey, kind: LeaderKind) -> LeaderGuard<'_> {
        let flight = Arc::new(Flight {
            kind,
            waiters: AtomicUsize::new(0),
            state: OnceLock::new(),
            settled: Mutex::new(false),
            wake_sync: Condvar::new(),
        });
        flights.insert(key.clone(), Arc::clone(&flight));
        LeaderGuard {
            flights: self,
            key: key.clone(),
            flight,
            finished: false,
        }
    }

    /// Lets the next caller for `key` start a new flight: the one in the air began before an
    /// invalidation, so callers arriving after it must not share its result. Callers already
    /// waiting still get it (their reads began before the invalidation).
    pub(crate) fn detach(&self, key: &str) {
        self.flights.lock().remove(key);
    }

    /// [`detach`](SingleFlight::detach) for every key.
    pub(crate) fn detach_all(&self) {
        self.flights.lock().clear();
    }

    /// Number of loads in the air (for tests and introspection).
    pub(crate) fn in_flight(&self) -> usize {
        self.flights.lock().len()
    }

    /// Takes the flight out of the map and hands `state` to its waiters. With none (the
    /// common case: one caller per key) `state` is never built, so the leader's value is not
    /// copied for nobody, and nobody is woken.
    fn finish(&self, key: &CacheKey, flight: &Arc<Flight>, state: impl FnOnce() -> FlightState) {
        let waiters = {
            let mut flights = self.flights.lock();
            // Only remove our own flight: after an abandonment a new leader may own the slot
            // (then it goes back; one hash of the key in the common case instead of two).
            if let Some(found) = flights.remove(key)
                && !Arc::ptr_eq(&found, flight)
            {
                flights.insert(key.clone(), found);
            }
            // Out of the map (here, or earlier by `detach`/`lead`): nobody joins any more.
            flight.waiters.load(Relaxed)
        };
        if waiters == 0 {
            return;
        }
        flight.channel().send_replace(state());
        *flight.settled.lock() = true;
        flight.wake_sync.notify_all();
    }
}

impl Flight {
    fn channel(&self) -> &watch::Sender<FlightState> {
        self.state
            .get_or_init(|| watch::Sender::new(FlightState::Pending))
    }

    pub(crate) fn kind(&self) -> LeaderKind {
        self.kind
    }

    fn outcome(&self) -> Waited {
        match &*self.channel().borrow() {
            FlightState::Done(v) => Waited::Done(Arc::clone(v)),
            FlightState::Pending | FlightState::Abandoned => Waited::Abandoned,
        }
    }

    /// Waits asynchronously for the leader's outcome, at most `limit` when given.
    pub(crate) async fn wait(&self, limit: Option<Duration>) -> Waited {
        let mut rx = self.channel().subscribe();
        let settled = async {
            // An error means the sender is gone, which only happens after `finish`.
            let _ = rx.wait_for(|s| !matches!(s, FlightState::Pending)).await;
            self.outcome()
        };
        match limit {
            Some(limit) => tokio::time::timeout(limit, settled)
                .await
                .unwrap_or(Waited::TimedOut),
            None => settled.await,
        }
    }

    /// Blocks the calling thread until the leader's outcome is known.
    pub(crate) fn wait_blocking(&self) -> Waited {
        let mut settled = self.settled.lock();
        while !*settled {
            self.wake_sync.wait(&mut settled);
        }
        drop(settled);
        self.outcome()
    }
}

/// Held by the caller that loads. Completing it wakes the waiters with the outcome; dropping it
/// unfinished (cancellation, panic) wakes them with `Abandoned`.
pub(crate) struct LeaderGuard<'a> {
    flights: &'a SingleFlight,
    key: CacheKey,
    flight: Arc<Flight>,
    finished: bool,
}

impl LeaderGuard<'_> {
    /// Ends the flight with the outcome `outcome` builds, called only if someone waits.
    pub(crate) fn complete(mut self, outcome: impl FnOnce() -> SharedValue) {
        self.finished = true;
        let done = || FlightState::Done(outcome());
        self.flights.finish(&self.key, &self.flight, done);
    }
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.flights
                .finish(&self.key, &self.flight, || FlightState::Abandoned);
        }
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
