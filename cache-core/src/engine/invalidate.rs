//! Invalidation: the remote tier first, then this node, then the backplane.
//!
//! The remote delete is ordered before the local copy is dropped: a reader on this node that
//! misses locally in between finds nothing remotely either, or re-reads the old bytes with a
//! ticket older than the local tombstone, and that backfill is refused. Dropping locally
//! records a tombstone (refusing older fills), removes the entry in the same locked step, and
//! detaches the key's single-flight so later callers do not join a load that began before.

use std::sync::{Arc, Weak};

use super::Cache;
use super::fence::{Fences, Scope};
use super::generation::Generation;
use super::single_flight::SingleFlight;
use crate::CacheKey;
use crate::tier::local::LocalTier;
use crate::tier::remote::{RemoteEvent, RemoteListener, RemoteTier};
use crate::tier::request;

/// What a node drops when an invalidation reaches it (its own call or the backplane).
#[derive(Clone)]
pub(crate) struct LocalDrop {
    pub(crate) local: Option<LocalTier>,
    pub(crate) fences: Arc<Fences>,
    pub(crate) flights: Arc<SingleFlight>,
    pub(crate) generation: Arc<Generation>,
}

impl LocalDrop {
    pub(crate) fn apply(&self, scope: Scope<'_>) {
        let local = self.local.as_ref();
        self.fences.invalidate(scope, || {
            if let Some(local) = local {
                match scope {
                    Scope::Key(key) => local.invalidate(key),
                    Scope::Tag(tag) => local.invalidate_tag(tag),
                    Scope::All => local.clear(),
                }
            }
        });
        match scope {
            Scope::Key(key) => self.flights.detach(key),
            Scope::Tag(_) | Scope::All => self.flights.detach_all(),
        }
    }

    /// Applies other nodes' invalidations. It holds the local tier and fences, not the cache,
    /// and the tier only weakly, so the remote tier's listener list never keeps a dropped
    /// cache (or the tier itself) alive.
    pub(crate) fn listener(self, tier: Weak<dyn RemoteTier>) -> RemoteListener {
        Arc::new(move |event| match event {
            RemoteEvent::Invalidate(remote_key) => {
                if let Some(key) = self.generation.local_key(&remote_key) {
                    self.apply(Scope::Key(key));
                }
            }
            RemoteEvent::InvalidateTag(remote_tag) => {
                if let Some(tag) = remote_tag.strip_prefix(self.generation.base()) {
                    self.apply(Scope::Tag(tag));
                }
            }
            RemoteEvent::Clear => {
                self.apply(Scope::All);
                // Messages may have been missed, a clear's announcement among them.
                self.reread_generation(&tier);
            }
            RemoteEvent::Cleared {
                namespace,
                generation,
            } => {
                if namespace == self.generation.base() {
                    // Switched before the local drop: a read whose ticket passes the drop's
                    // fence already uses the new generation.
                    self.generation.advance_to(generation);
                    self.apply(Scope::All);
                }
            }
        })
    }

    /// Re-reads the generation on a task of its own (the listener must not block); if it moved,
    /// drops again whatever was loaded from the old one meanwhile.
    fn reread_generation(&self, tier: &Weak<dyn RemoteTier>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (this, tier) = (self.clone(), Weak::clone(tier));
        runtime.spawn(async move {
            if this.generation.reread(&tier).await {
                this.apply(Scope::All);
            }
        });
    }
}

impl Cache {
    pub(super) fn drop_here(&self, scope: Scope<'_>) {
        match scope {
            Scope::Key(key) => request::remove(self.inner.id, key),
            // The request tier does not index tags; a tag invalidation is rare, so drop it all.
            Scope::Tag(_) | Scope::All => request::clear(self.inner.id),
        }
        self.inner.drop.apply(scope);
    }

    pub(crate) async fn remove_everywhere(&self, key: &CacheKey) {
        let remote = self.remote();
        if let Some(remote) = remote {
            // The remote tier queues a failed delete for replay; this node drops its copy
            // regardless.
            remote.delete(key).await;
        }
        self.drop_here(Scope::Key(key.as_str()));
        if let Some(remote) = remote {
            remote.announce_key(key).await;
        }
    }

    pub(crate) async fn remove_tag_everywhere(&self, tag: &str) {
        let remote = self.remote();
        if let Some(remote) = remote {
            remote.invalidate_tag(tag).await;
        }
        self.drop_here(Scope::Tag(tag));
        if let Some(remote) = remote {
            remote.announce_tag(tag).await;
        }
    }
}
