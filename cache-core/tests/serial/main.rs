//! cache-core tests that must not share their process with other tests, in one binary apart from
//! `tests/it`, each holding [`SERIAL`] for its whole run so they run one at a time:
//!
//! * `byte_budget` reads the process's resident set size;
//! * `codec_bomb` counts every allocation of the process (its counting allocator is this
//!   binary's global allocator);
//! * `flags_env` sets `CACHE_FLAGS` in the process environment.

mod byte_budget;
mod codec_bomb;
mod flags_env;

/// Held by every test of this binary for its whole run, so no other test allocates, reads the
/// environment or moves the RSS meanwhile (the harness runs tests on several threads). Taken with
/// `lock().unwrap_or_else(|e| e.into_inner())`: a test that panicked does not block the rest.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
