//! One load per key per process, with hand-over when the leader is cancelled.
//!
//! The first caller for a cold key becomes the leader and loads; later callers wait for its
//! outcome — async callers on a `watch` channel, sync callers on a condition variable, so both
//! kinds share one flight. If the leader goes away before it finishes (its future was dropped
//! because the client hung up, or its loader panicked), its guard marks the flight abandoned,
//! every waiter wakes, and one of them becomes the new leader with its own loader: nobody waits
//! forever and nobody sees an error that was never produced.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};
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
    /// Made with the flight's first waiter, so it always has one: a leader alone never needs
    /// a channel.
    state: watch::Sender<FlightState>,
    settled: Mutex<bool>,
    wake_sync: Condvar,
}

/// A flight in the air as the map holds it. The shared [`Flight`] is made only when a first
/// waiter joins: most flights have none (one caller per key), and their leader then pays for
/// no allocation, no reference counts and no wake-up.
struct Slot {
    /// Tells a leader's slot from a newer leader's after a hand-over (see `Flights::orphans`).
    id: u64,
    kind: LeaderKind,
    waiters: Option<Arc<Flight>>,
}

/// Keyed with foldhash, randomly seeded per process like the local tier's map: every cold
/// read inserts and removes its key, and SipHash was a visible part of that.
#[derive(Default)]
struct Flights {
    slots: HashMap<CacheKey, Slot, foldhash::fast::RandomState>,
    /// Waited-on flights whose slot was taken out before their leader finished (`detach`,
    /// `lead`), by slot id: their leader still owes the waiters an outcome.
    orphans: HashMap<u64, Arc<Flight>, foldhash::fast::RandomState>,
    next_id: u64,
}

impl Flights {
    /// Takes `slot` out of the map's view; its waiters, if any, wait for its leader.
    fn orphan(&mut self, slot: Slot) {
        if let Some(flight) = slot.waiters {
            self.orphans.insert(slot.id, flight);
        }
    }
}

#[derive(Default)]
pub(crate) struct SingleFlight {
    flights: Mutex<Flights>,
    /// How many keys have a flight, as of the last change: read without the lock by
    /// [`waiting_on`](SingleFlight::waiting_on), so a read finds no flight for free when none
    /// is in the air, the usual state of a cache whose reads hit.
    in_air: AtomicUsize,
}

/// The flights, locked; on unlock, `in_air` is brought up to date.
struct Locked<'a> {
    flights: MutexGuard<'a, Flights>,
    in_air: &'a AtomicUsize,
}

impl std::ops::Deref for Locked<'_> {
    type Target = Flights;
    fn deref(&self) -> &Flights {
        &self.flights
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Flights {
        &mut self.flights
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.in_air
            .store(self.flights.slots.len(), Ordering::Release);
    }
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
    fn lock(&self) -> Locked<'_> {
        Locked {
            flights: self.flights.lock(),
            in_air: &self.in_air,
        }
    }

    /// Joins the flight in the air for `key` as a waiter, if there is one; starts none.
    pub(crate) fn waiting_on(&self, key: &CacheKey) -> Option<Arc<Flight>> {
        if self.in_air.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut flights = self.lock();
        let slot = flights.slots.get_mut(key)?;
        let kind = slot.kind;
        Some(Arc::clone(
            slot.waiters.get_or_insert_with(|| Flight::new(kind)),
        ))
    }

    /// Joins the flight for `key`, starting one (as its leader) if none is in the air.
    pub(crate) fn join(&self, key: &CacheKey, kind: LeaderKind) -> Role<'_> {
        let mut flights = self.lock();
        let id = flights.next_id;
        // One hash of the key either way; the clone is a reference count.
        match flights.slots.entry(key.clone()) {
            Entry::Occupied(mut slot) => {
                let slot = slot.get_mut();
                let kind = slot.kind;
                let flight = slot.waiters.get_or_insert_with(|| Flight::new(kind));
                Role::Waiter(Arc::clone(flight))
            }
            Entry::Vacant(vacant) => {
                vacant.insert(Slot {
                    id,
                    kind,
                    waiters: None,
                });
                flights.next_id += 1;
                Role::Leader(self.guard(key, id))
            }
        }
    }

    /// Starts a flight for `key` led by the caller, replacing any in the air (a forced
    /// refresh must not share a load that began before it): callers already waiting on the
    /// older flight still get its outcome, callers that join from now on get this one's.
    pub(crate) fn lead(&self, key: &CacheKey, kind: LeaderKind) -> LeaderGuard<'_> {
        let mut flights = self.lock();
        let id = flights.next_id;
        flights.next_id += 1;
        let slot = Slot {
            id,
            kind,
            waiters: None,
        };
        if let Some(older) = flights.slots.insert(key.clone(), slot) {
            flights.orphan(older);
        }
        self.guard(key, id)
    }

    fn guard(&self, key: &CacheKey, id: u64) -> LeaderGuard<'_> {
        LeaderGuard {
            flights: self,
            key: key.clone(),
            id,
            finished: false,
        }
    }

    /// Lets the next caller for `key` start a new flight: the one in the air began before an
    /// invalidation, so callers arriving after it must not share its result. Callers already
    /// waiting still get it (their reads began before the invalidation).
    pub(crate) fn detach(&self, key: &str) {
        let mut flights = self.lock();
        if let Some(slot) = flights.slots.remove(key) {
            flights.orphan(slot);
        }
    }

    /// [`detach`](SingleFlight::detach) for every key.
    pub(crate) fn detach_all(&self) {
        let mut flights = self.lock();
        let slots = std::mem::take(&mut flights.slots);
        for slot in slots.into_values() {
            flights.orphan(slot);
        }
    }

    /// Number of loads in the air (for tests and introspection).
    pub(crate) fn in_flight(&self) -> usize {
        self.flights.lock().slots.len()
    }

    /// Takes the flight `id` out of the map and hands `state` to its waiters. With none (the
    /// common case: one caller per key) `state` is never built, so the leader's value is not
    /// copied for nobody, and nobody is woken.
    fn finish(&self, key: &CacheKey, id: u64, state: impl FnOnce() -> FlightState) {
        let waiters = {
            let mut flights = self.lock();
            match flights.slots.remove(key) {
                Some(slot) if slot.id == id => slot.waiters,
                found => {
                    // Handed over (detached or replaced): a newer leader may own the key's
                    // slot, which goes back, and this flight's waiters are among the orphans.
                    if let Some(newer) = found {
                        flights.slots.insert(key.clone(), newer);
                    }
                    flights.orphans.remove(&id)
                }
            }
            // Out of the map: nobody joins any more.
        };
        let Some(flight) = waiters else {
            return;
        };
        flight.state.send_replace(state());
        *flight.settled.lock() = true;
        flight.wake_sync.notify_all();
    }
}

impl Flight {
    fn new(kind: LeaderKind) -> Arc<Flight> {
        Arc::new(Flight {
            kind,
            state: watch::Sender::new(FlightState::Pending),
            settled: Mutex::new(false),
            wake_sync: Condvar::new(),
        })
    }

    pub(crate) fn kind(&self) -> LeaderKind {
        self.kind
    }

    fn outcome(&self) -> Waited {
        match &*self.state.borrow() {
            FlightState::Done(v) => Waited::Done(Arc::clone(v)),
            FlightState::Pending | FlightState::Abandoned => Waited::Abandoned,
        }
    }

    /// Waits asynchronously for the leader's outcome, at most `limit` when given.
    pub(crate) async fn wait(&self, limit: Option<Duration>) -> Waited {
        let mut rx = self.state.subscribe();
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
    id: u64,
    finished: bool,
}

impl LeaderGuard<'_> {
    /// Ends the flight with the outcome `outcome` builds, called only if someone waits.
    pub(crate) fn complete(mut self, outcome: impl FnOnce() -> SharedValue) {
        self.finished = true;
        let done = || FlightState::Done(outcome());
        self.flights.finish(&self.key, self.id, done);
    }
}

impl Drop for LeaderGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.flights
                .finish(&self.key, self.id, || FlightState::Abandoned);
        }
    }
}

/// A flight's outcome as waiters share it: the loader's `Result`, type-erased.
pub(crate) fn share<T: Send + Sync + 'static, E: Send + Sync + 'static>(
    result: Result<T, E>,
) -> SharedValue {
    Arc::new(result)
}
