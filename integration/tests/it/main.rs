//! Tests that read files from across the workspace (see the crate docs), in one binary:
//! the fuzz corpus, the Grafana dashboard, and the structure rules every crate keeps.

mod fuzz_corpus;
mod grafana_dashboard;
mod structure;
