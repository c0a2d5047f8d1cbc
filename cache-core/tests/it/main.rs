//! cache-core's integration tests: one module per concern, linked into one test binary (one
//! link instead of one per file). Tests that need the process to themselves (memory measured
//! process-wide, the environment changed) are in `tests/serial`, a second binary that runs
//! them one at a time.

mod common;

mod adaptive;
mod batch;
mod batch_coalescing;
mod clear;
mod codec;
mod flags;
mod force_refresh;
mod front;
mod keys;
mod metrics;
mod multi_node;
mod negative;
mod record_keys;
mod remote_copies;
mod scope_layer;
mod single_flight;
mod stale_refresh;
mod sync_path;
mod tiers;
