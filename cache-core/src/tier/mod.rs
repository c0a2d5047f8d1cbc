//! The tiers a lookup walks through, fastest first.
//!
//! - [`request`]: values shared by everything running inside one [`request_scope`](crate::request_scope).
//! - [`local`]: the in-process moka tier, bounded in bytes, holding decoded values.
//! - [`remote`]: the trait a shared tier (Redis) implements; [`memory::MemoryRemote`] is an
//!   in-process implementation for tests and single-binary demos.

mod front;
pub mod local;
pub mod memory;
pub mod remote;
pub mod request;
#[cfg(feature = "tower")]
pub mod scope_layer;

use std::any::Any;
use std::sync::Arc;

/// A decoded value as the request and local tiers hold it: type-erased so one map serves every
/// cached function, shared so a hit only bumps a reference count before cloning out.
pub(crate) type SharedValue = Arc<dyn Any + Send + Sync>;
