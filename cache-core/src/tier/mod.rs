//! The tiers a lookup walks through, fastest first.
//!
//! - [`request`]: values shared by everything running inside one [`request_scope`](crate::request_scope).
//! - [`local`]: the in-process moka tier, bounded in bytes, holding decoded values.
//! - [`remote`]: the trait a shared tier (Redis) implements; [`memory::MemoryRemote`] is an
//!   in-process implementation for tests and single-binary demos.

pub(crate) mod entry;
mod front;
pub mod inspect;
pub mod local;
pub mod memory;
pub mod remote;
pub mod request;
#[cfg(feature = "tower")]
pub mod scope_layer;

use std::any::Any;
use std::sync::Arc;

/// A decoded value (or a flight's result) shared between callers: type-erased so one map
/// serves every cached function, shared so a hit only bumps a reference count before cloning
/// out.
pub(crate) type SharedValue = Arc<dyn Any + Send + Sync>;

/// A value in the request tier: the local entry it was stored in or found in (sharing the
/// value inside it), or a copy of its own when no local entry holds it.
#[derive(Clone)]
pub(crate) enum Held {
    Entry(Arc<entry::LocalEntry>),
    Own(SharedValue),
}

impl Held {
    /// `entry`, or a copy of `value` when there is none.
    pub(crate) fn of<T: Any + Send + Sync + Clone>(
        entry: Option<Arc<entry::LocalEntry>>,
        value: &T,
    ) -> Held {
        match entry {
            Some(entry) => Held::Entry(entry),
            None => Held::Own(Arc::new(value.clone())),
        }
    }

    /// The value, if it is a `T`.
    pub(crate) fn downcast_ref<T: Any>(&self) -> Option<&T> {
        match self {
            Held::Entry(entry) => entry.value.downcast_ref(),
            Held::Own(value) => value.downcast_ref(),
        }
    }
}

/// A reading of the engine's fence clock, taken when a read or load began; a store presents
/// it so that a value older than an invalidation is refused (see the engine's `fence`). The
/// request tier keeps the ticket of the read that put a value there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ticket(u64);

impl Ticket {
    /// The ticket of fence clock value `clock`.
    pub(crate) fn at(clock: u64) -> Ticket {
        Ticket(clock)
    }

    /// The fence clock value it was taken at.
    pub(crate) fn clock(self) -> u64 {
        self.0
    }
}
