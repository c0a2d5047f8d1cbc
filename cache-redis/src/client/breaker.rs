//! Circuit breaker: after `threshold` consecutive failures every call fails fast for
//! `cooldown`; then exactly one probe goes through, and its outcome closes or re-opens it.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::health::BreakerState;

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// A probe is in flight; everyone else fails fast.
    HalfOpen,
}

/// What a finished call reports back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    None,
    /// The breaker just opened.
    Opened,
    /// Redis answered after one or more failures.
    Recovered,
}

#[derive(Debug)]
pub(crate) struct Breaker {
    state: Mutex<State>,
    threshold: u32,
    cooldown: Duration,
}

/// Permission to send one command. Report its outcome with [`Permit::success`] or
/// [`Permit::failure`]; a permit dropped without an outcome (the caller was cancelled) lets the
/// next caller probe.
#[must_use]
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    probe: bool,
    settled: bool,
}

impl Breaker {
    pub(crate) fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            state: Mutex::new(State::Closed { failures: 0 }),
            threshold: threshold.max(1),
            cooldown,
        }
    }

    /// A permit, or `None` to fail fast.
    pub(crate) fn admit(&self) -> Option<Permit<'_>> {
        let mut state = self.state.lock();
        let probe = match *state {
            State::Closed { .. } => false,
            State::Open { until } if Instant::now() >= until => {
                *state = State::HalfOpen;
                true
            }
            State::Open { .. } | State::HalfOpen => return None,
        };
        Some(Permit {
            breaker: self,
            probe,
            settled: false,
        })
    }

    pub(crate) fn state(&self) -> BreakerState {
        match *self.state.lock() {
            State::Closed { failures: 0 } => BreakerState::Up,
            State::Closed { .. } => BreakerState::Degraded,
            State::Open { .. } => BreakerState::BreakerOpen,
            State::HalfOpen => BreakerState::Probing,
        }
    }

    fn settle(&self, ok: bool) -> Transition {
        let mut state = self.state.lock();
        match (*state, ok) {
            (State::Closed { failures: 0 }, true) => Transition::None,
            (_, true) => {
                *state = State::Closed { failures: 0 };
                Transition::Recovered
            }
            (State::Closed { failures }, false) if failures + 1 < self.threshold => {
                *state = State::Closed {
                    failures: failures + 1,
                };
                Transition::None
            }
            (State::Open { .. }, false) => Transition::None,
            (_, false) => {
                *state = State::Open {
                    until: Instant::now() + self.cooldown,
                };
                Transition::Opened
            }
        }
    }
}

impl Permit<'_> {
    /// Redis answered and can serve (an error reply such as `WRONGTYPE` or `NOPERM` still
    /// shows it reachable; `LOADING`, `BUSY`, `READONLY` and the like count as failures).
    pub(crate) fn success(mut self) -> Transition {
        self.settled = true;
        self.breaker.settle(true)
    }

    /// The call failed to reach Redis, timed out, or Redis cannot serve right now.
    pub(crate) fn failure(mut self) -> Transition {
        self.settled = true;
        self.breaker.settle(false)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.settled {
            let mut state = self.breaker.state.lock();
            if matches!(*state, State::HalfOpen) {
                *state = State::Open {
                    until: Instant::now(),
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_lets_one_probe_through() {
        let breaker = Breaker::new(3, Duration::from_millis(30));
        for _ in 0..2 {
            assert_eq!(breaker.admit().unwrap().failure(), Transition::None);
        }
        assert_eq!(breaker.state(), BreakerState::Degraded);
        assert_eq!(breaker.admit().unwrap().failure(), Transition::Opened);
        assert!(breaker.admit().is_none(), "fails fast while open");
        assert_eq!(breaker.state(), BreakerState::BreakerOpen);
        std::thread::sleep(Duration::from_millis(40));
        let probe = breaker.admit().expect("one probe after the cool-down");
        assert!(breaker.admit().is_none(), "only one probe");
        assert_eq!(breaker.state(), BreakerState::Probing);
        assert_eq!(probe.success(), Transition::Recovered);
        assert_eq!(breaker.state(), BreakerState::Up);
    }

    #[test]
    fn a_failed_probe_reopens_and_a_dropped_probe_frees_the_slot() {
        let breaker = Breaker::new(1, Duration::from_millis(10));
        assert_eq!(breaker.admit().unwrap().failure(), Transition::Opened);
        std::thread::sleep(Duration::from_millis(15));
        assert_eq!(breaker.admit().unwrap().failure(), Transition::Opened);
        assert!(breaker.admit().is_none());
        std::thread::sleep(Duration::from_millis(15));
        drop(breaker.admit().unwrap());
        assert!(
            breaker.admit().is_some(),
            "a cancelled probe does not wedge it"
        );
    }

    #[test]
    fn success_resets_the_failure_count() {
        let breaker = Breaker::new(2, Duration::from_secs(60));
        let _ = breaker.admit().unwrap().failure();
        assert_eq!(breaker.admit().unwrap().success(), Transition::Recovered);
        assert_eq!(breaker.admit().unwrap().failure(), Transition::None);
        assert_eq!(breaker.state(), BreakerState::Degraded);
    }

    #[test]
    fn default_settings_fail_fast_for_two_seconds() {
        let breaker = Breaker::new(5, Duration::from_secs(2));
        for _ in 0..5 {
            let _ = breaker.admit().unwrap().failure();
        }
        assert!(breaker.admit().is_none());
    }
}
