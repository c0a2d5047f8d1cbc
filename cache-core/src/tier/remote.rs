//! The contract of a shared tier. `cache-redis` implements it for Redis;
//! [`MemoryRemote`](crate::tier::memory::MemoryRemote) implements it in-process.
//!
//! A remote tier moves envelope bytes (see [`codec`](crate::codec)); it never sees typed values.
//! Keys arrive already namespaced. Every call may fail: the engine counts a failure as a miss
//! and goes on, because a remote tier is an accelerator, never a dependency.

use std::sync::Arc;
use std::time::Duration;

use crate::Result;

/// What happened when asking for the stampede lease on a cold key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// This process holds the lease; release it with this token after writing the value.
    Acquired(String),
    /// Another process holds it: wait for its value (or for the lease to expire).
    HeldElsewhere,
    /// The tier has no leases; load right away.
    Unsupported,
}

/// A change another node announced on the backplane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteEvent {
    /// Drop this (namespaced) key from the local tier.
    Invalidate(String),
    /// Drop every local entry carrying this tag.
    InvalidateTag(String),
    /// Drop the whole local tier (e.g. after the subscription reconnected and may have missed
    /// messages).
    Clear,
}

/// Receives [`RemoteEvent`]s from other nodes.
pub type RemoteListener = Arc<dyn Fn(RemoteEvent) + Send + Sync>;

/// A shared tier of envelope bytes.
///
/// Only `get`, `get_many`, `set` and `delete` are required; leases, the backplane and tags have
/// defaults that report them unsupported, and the engine then behaves as a single node.
#[async_trait::async_trait]
pub trait RemoteTier: Send + Sync + 'static {
    /// Reads one entry.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Reads many entries in as few round trips as the tier allows; the result has one slot per key.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>>;

    /// Writes one entry that the tier must drop after `ttl` (every entry gets a TTL). `tags` are
    /// recorded so [`invalidate_tag`](RemoteTier::invalidate_tag) can find the entry.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration, tags: &[Arc<str>]) -> Result<()>;

    /// Deletes one entry (non-blocking delete, e.g. `UNLINK`, where the tier has one).
    async fn delete(&self, key: &str) -> Result<()>;

    /// Tries to take the stampede lease for a cold `key` for `ttl`.
    async fn try_lease(&self, key: &str, ttl: Duration) -> Result<Lease> {
        let _ = (key, ttl);
        Ok(Lease::Unsupported)
    }

    /// Releases a lease taken with [`try_lease`](RemoteTier::try_lease), only if `token` still owns it.
    async fn release_lease(&self, key: &str, token: &str) -> Result<()> {
        let _ = (key, token);
        Ok(())
    }

    /// Announces `event` to every other node sharing this tier.
    async fn publish(&self, event: RemoteEvent) -> Result<()> {
        let _ = event;
        Ok(())
    }

    /// Registers the engine's listener for events published by other nodes.
    fn subscribe(&self, listener: RemoteListener) {
        let _ = listener;
    }

    /// Makes every entry written with `tag` unreadable.
    async fn invalidate_tag(&self, tag: &str) -> Result<()> {
        let _ = tag;
        Err(crate::Error::Unsupported("tag invalidation"))
    }
}
