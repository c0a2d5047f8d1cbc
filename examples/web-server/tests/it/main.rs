//! The example server's tests: each starts its own server in-process, with its own SQLite file
//! (and its own redis-server where it needs one), so they share one test binary safely.

mod common;

mod auth;
mod browser;
mod concurrent_patches;
mod dashboard;
mod http;
mod lifecycle;
mod otlp;
mod redis_nodes;
mod shutdown;
