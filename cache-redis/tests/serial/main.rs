//! cache-redis tests that must not share the process, or the machine's cores, with other tests:
//! a second test binary beside `tests/it`. Every test here that measures the process or depends
//! on timing holds [`SERIAL`] for its whole run, so they run one at a time (as they did when
//! each file was its own binary); the checker's own unit tests (`coherence::checker`) need no
//! lock:
//!
//! * `bad_bytes` and `bad_bytes_bomb` measure the process's peak resident set size;
//! * `coherence` (the randomized history checker, ~25 s a scenario) and `coherence_rules` (one
//!   deterministic interleaving per rule, several with 200 ms command timeouts) depend on timing
//!   that a Cluster starting beside them on the same cores could upset.

#[path = "../common/mod.rs"]
mod common;

mod bad_bytes;
mod bad_bytes_bomb;
mod coherence;
mod coherence_rules;

/// Held by every test of this binary for its whole run.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
