//! Tests that read files from across the workspace (see the crate docs), in one binary.

mod fuzz_corpus;
mod grafana_dashboard;
