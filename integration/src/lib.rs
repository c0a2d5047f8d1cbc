//! No library code: this crate holds the workspace's tests that read files outside any one
//! published crate (`tests/it`), so that `cargo package` of cache-core, cache-macros and
//! cache-redis ships tests that pass from the tarball alone.
//!
//! * `fuzz_corpus` replays `fuzz/corpus/` through `fuzz/src/checks.rs`;
//! * `grafana_dashboard` runs every query of `examples/web-server/grafana/dashboards/cache.json`
//!   against a real Prometheus.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
