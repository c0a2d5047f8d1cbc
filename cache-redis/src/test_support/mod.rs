//! Throwaway `redis-server` processes for tests (feature `test-support`).
//!
//! Each server binds 127.0.0.1 on a free port, keeps nothing on disk and is killed on drop.
//! `redis-server` (and `redis-cli` for a Cluster) must be on `PATH`; if not, `start()` panics
//! with an install hint, so a test fails instead of silently passing.
//!
//! ```no_run
//! use cache_redis::test_support::RedisServer;
//! let server = RedisServer::start();
//! println!("connect to {}", server.url());
//! ```

mod cluster;
pub mod fixtures;
mod logs;
mod resp;
mod server;

pub use cluster::RedisCluster;
pub use logs::with_captured_logs;
pub use server::RedisServer;

/// The panic message when `redis-server` is missing.
pub const NOT_INSTALLED: &str = "redis-server not found on PATH; install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis`";
