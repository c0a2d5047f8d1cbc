//! cache-redis's integration tests: one module per concern, linked into one test binary (one
//! link instead of one per file). Every test starts its own redis-server processes on free
//! loopback ports, so tests of different modules run side by side safely. Tests that need the
//! process or the machine to themselves are in `tests/serial`.
//!
//! `load_fault` is `#[ignore]`d (30 s); `scripts/test` runs it on its own with
//! `cargo test -p cache-redis --test it load_fault -- --ignored`.

// Shared with `tests/serial`, so it lives at `tests/common`.
#[path = "../common/mod.rs"]
mod common;

mod adaptive;
mod backplane_trust;
mod batch;
mod clear;
mod cluster;
mod error_replies;
mod faults;
mod flags;
mod force_refresh;
mod isolation;
mod load_fault;
mod negative;
mod security;
mod single_node;
mod tracking;
mod tracking_cluster;
