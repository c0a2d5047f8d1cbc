//! The write-back tests, one binary: each module starts its own `redis-server`s (or Cluster)
//! on free ports, so they run in parallel like separate test files would.

mod common;
mod failover;
mod isolation;
mod restart;
mod security;
mod single_node;
mod stress;
mod support;
