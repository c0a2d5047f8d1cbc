//! Fenced writes: the tokens that name them, authoritative writes, leases and fills, all
//! stored under the entry's own key (see [`fenced`]).
//!
//! `try_lease` stores a lease head under the key if it is absent: one Lua call that also
//! indexes the key under its tags, so a tag invalidation during the load voids the lease
//! (on a Cluster, where tag sets live in other slots, the tags are indexed first, then the
//! lease is taken: an invalidation in between finds the key and deletes nothing, and the load
//! starts after it). The fill replaces the lease only while it is still there; `release`
//! deletes it only while it is still there, so a lease that expired and was taken by another
//! node is never released by its former holder.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use cache_core::{Fence, Lease, Token};

use crate::client::{Client, Failure, millis};
use crate::fenced::{self, FILL, LEASE_SCRIPT, RELEASE};
use crate::health::{RedisStats, layer_counters};
use crate::recovery::{Op, Recovery};
use crate::tags::Tags;

layer_counters! {
    /// Values too large to write.
    LeaseCounters {
        oversized_skipped,
    }
}

/// Writes, leases and fills of entries, each under a token of this node's.
pub(crate) struct Leases {
    client: Arc<Client>,
    tags: Arc<Tags>,
    /// Where a fill that could not be undone is queued.
    recovery: Arc<Recovery>,
    /// The node part of every token this tier makes.
    node: u64,
    next_token: AtomicU64,
    /// Largest envelope written (`max_value_size`).
    max_value_size: usize,
    counters: LeaseCounters,
}

impl Leases {
    pub(crate) fn new(
        client: Arc<Client>,
        tags: Arc<Tags>,
        recovery: Arc<Recovery>,
        node: u64,
    ) -> Leases {
        Leases {
            max_value_size: client.config().max_value_size,
            next_token: AtomicU64::new(1),
            counters: LeaseCounters::default(),
            client,
            tags,
            recovery,
            node,
        }
    }

    /// The node part of this tier's tokens.
    pub(crate) fn node(&self) -> u64 {
        self.node
    }

    /// A token no other write or lease has.
    pub(crate) fn next_token(&self) -> Token {
        Token::new(self.node, self.next_token.fetch_add(1, Relaxed))
    }

    /// Writes an entry (no queueing) as the write `token`: skips and unlinks values over the
    /// size cap.
    pub(crate) async fn write(
        &self,
        key: &str,
        envelope: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
        token: Token,
    ) -> Result<(), Failure> {
        if envelope.len() > self.max_value_size {
            self.skip_oversized(envelope.len());
            // An older value must not be served in place of the one just computed.
            return self.client.unlink(key).await;
        }
        let value = fenced::entry_value(token, envelope);
        if tags.is_empty() {
            self.client.set_px(key, &value, millis(ttl)).await
        } else {
            self.tags.set_tagged(key, &value, ttl, tags).await
        }
    }

    fn skip_oversized(&self, bytes: usize) {
        LeaseCounters::bump(&self.counters.oversized_skipped);
        tracing::debug!(
            bytes,
            max = self.max_value_size,
            "value too large for Redis; not written"
        );
    }

    /// Fills in the counters this layer keeps.
    pub(crate) fn stats(&self, stats: &mut RedisStats) {
        self.counters.fill(stats);
    }

    pub(crate) async fn try_lease(
        &self,
        key: &str,
        ttl: Duration,
        tags: &[Arc<str>],
        takeover: Option<Token>,
    ) -> Result<Lease, Failure> {
        let token = self.next_token();
        let ttl = millis(ttl);
        let cluster = self.client.is_cluster();
        if cluster {
            self.tags.index(key, tags, ttl).await?;
        }
        let mut invocation = LEASE_SCRIPT.prepare_invoke();
        invocation.key(key);
        if !cluster {
            for tag in tags {
                invocation.key(self.tags.key(tag));
            }
        }
        let takeover = takeover.map(|t| fenced::lease_head(t).to_vec());
        invocation
            .arg(&fenced::lease_head(token)[..])
            .arg(ttl)
            .arg(takeover.unwrap_or_default());
        let taken: i64 = self.client.invoke(&invocation).await?;
        Ok(if taken == 1 {
            Lease::Acquired(token)
        } else {
            Lease::HeldElsewhere
        })
    }

    pub(crate) async fn release_lease(&self, key: &str, token: Token) -> Result<(), Failure> {
        let mut invocation = RELEASE.prepare_invoke();
        invocation.key(key).arg(&fenced::lease_head(token)[..]);
        let _: i64 = self.client.invoke(&invocation).await?;
        Ok(())
    }

    /// Writes a load's result if `fence` is still in place: `Some(token)` when written.
    pub(crate) async fn fill(
        &self,
        key: &str,
        envelope: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
        fence: Fence,
    ) -> Result<Option<Token>, Failure> {
        let expected = match fence {
            Fence::Lease(token) => fenced::lease_head(token),
            Fence::Entry(token) => fenced::entry_head(token),
        };
        let token = self.next_token();
        if envelope.len() > self.max_value_size {
            self.skip_oversized(envelope.len());
            // Not written; what the fill would have replaced must not be served instead of
            // the value just computed. The token names no stored write, so a later refresh
            // of this value is fenced out and simply reloads.
            let mut invocation = RELEASE.prepare_invoke();
            invocation.key(key).arg(&expected[..]);
            let _: i64 = self.client.invoke(&invocation).await?;
            return Ok(Some(token));
        }
        let ttl = millis(ttl);
        let cluster = self.client.is_cluster();
        let mut invocation = FILL.prepare_invoke();
        invocation.key(key);
        if !cluster {
            for tag in tags {
                invocation.key(self.tags.key(tag));
            }
        }
        invocation
            .arg(fenced::entry_value(token, envelope))
            .arg(ttl)
            .arg(&expected[..]);
        let written: i64 = self.client.invoke(&invocation).await?;
        if written != 1 {
            return Ok(None);
        }
        if cluster && let Err(failure) = self.tags.index(key, tags, ttl).await {
            // The lease indexed the key, but only for the lease's TTL; this raises the tag
            // sets' TTL to the entry's. If that failed, the entry could outlive its index and
            // escape a later tag invalidation: undo the fill (queued if Redis is unreachable).
            if let Err(Failure::Outage(_)) = self.client.unlink(key).await {
                self.recovery.enqueue(Op::Delete(key.to_string()));
            }
            return Err(failure);
        }
        Ok(Some(token))
    }
}
