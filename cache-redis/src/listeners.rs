//! [`Listeners`]: the engine listeners a source of invalidations (the backplane, key tracking)
//! hands its events to.

use cache_core::{RemoteEvent, RemoteListener};
use parking_lot::RwLock;

/// The listeners of one source of invalidations.
#[derive(Default)]
pub(crate) struct Listeners(RwLock<Vec<RemoteListener>>);

impl Listeners {
    /// Adds a listener for the events of this source.
    pub(crate) fn add(&self, listener: RemoteListener) {
        self.0.write().push(listener);
    }

    /// Hands `event` to every listener, outside the lock: a listener may take its own locks.
    pub(crate) fn deliver(&self, event: &RemoteEvent) {
        let listeners = self.0.read().clone();
        for listener in listeners {
            listener(event.clone());
        }
    }
}
