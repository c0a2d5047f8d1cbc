//! Redis tier for `cache-core`.
//!
//! The `RedisTier` implementation of [`cache_core::RemoteTier`] arrives with its own issue; the
//! crate exists now so the workspace layout and the dependency direction are fixed.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
