//! Procedural macros for `cache-core`.
//!
//! `#[cached]` and `#[derive(CacheKey)]` arrive with their own issue; until then this crate is
//! intentionally empty so the workspace layout is fixed from the start.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
