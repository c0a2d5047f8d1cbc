//! Leases and fenced fills, stored under the entry's own key (see [`fenced`](crate::fenced)).
//!
//! `try_lease` stores a lease head under the key if it is absent: one Lua call that also
//! indexes the key under its tags, so a tag invalidation during the load voids the lease
//! (on a Cluster, where tag sets live in other slots, the tags are indexed first, then the
//! lease is taken: an invalidation in between finds the key and deletes nothing, and the load
//! starts after it). The fill replaces the lease only while it is still there; `release`
//! deletes it only while it is still there, so a lease that expired and was taken by another
//! node is never released by its former holder.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use cache_core::{Fence, Lease, Token};

use crate::call::Failure;
use crate::fenced::{self, FILL, LEASE_SCRIPT, RELEASE};
use crate::recovery::Op;
use crate::tier::{Inner, millis};

impl Inner {
    /// A token no other write or lease has.
    pub(crate) fn next_token(&self) -> Token {
        Token::new(self.node_num, self.next_token.fetch_add(1, Relaxed))
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
        let cluster = self.conn.is_cluster();
        if cluster {
            self.index_tags(key, tags, ttl).await?;
        }
        let mut invocation = LEASE_SCRIPT.prepare_invoke();
        invocation.key(key);
        if !cluster {
            for tag in tags {
                invocation.key(self.tag_key(tag));
            }
        }
        let takeover = takeover.map(|t| fenced::lease_head(t).to_vec());
        invocation
            .arg(&fenced::lease_head(token)[..])
            .arg(ttl)
            .arg(takeover.unwrap_or_default());
        let taken: i64 = self.call(self.conn.invoke(&invocation)).await?;
        Ok(if taken == 1 {
            Lease::Acquired(token)
        } else {
            Lease::HeldElsewhere
        })
    }

    pub(crate) async fn release_lease(&self, key: &str, token: Token) -> Result<(), Failure> {
        let mut invocation = RELEASE.prepare_invoke();
        invocation.key(key).arg(&fenced::lease_head(token)[..]);
        let _: i64 = self.call(self.conn.invoke(&invocation)).await?;
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
        if envelope.len() > self.config.max_value_size {
            self.skip_oversized(envelope.len());
            // Not written; what the fill would have replaced must not be served instead of
            // the value just computed. The token names no stored write, so a later refresh
            // of this value is fenced out and simply reloads.
            let mut invocation = RELEASE.prepare_invoke();
            invocation.key(key).arg(&expected[..]);
            let _: i64 = self.call(self.conn.invoke(&invocation)).await?;
            return Ok(Some(token));
        }
        let ttl = millis(ttl);
        let cluster = self.conn.is_cluster();
        let mut invocation = FILL.prepare_invoke();
        invocation.key(key);
        if !cluster {
            for tag in tags {
                invocation.key(self.tag_key(tag));
            }
        }
        invocation
            .arg(fenced::entry_value(token, envelope))
            .arg(ttl)
            .arg(&expected[..]);
        let written: i64 = self.call(self.conn.invoke(&invocation)).await?;
        if written != 1 {
            return Ok(None);
        }
        if cluster && let Err(failure) = self.index_tags(key, tags, ttl).await {
            // The lease indexed the key, but only for the lease's TTL; this raises the tag
            // sets' TTL to the entry's. If that failed, the entry could outlive its index and
            // escape a later tag invalidation: undo the fill (queued if Redis is unreachable).
            if let Err(Failure::Outage(_)) = self.unlink(key).await {
                self.enqueue(Op::Delete(key.to_string()));
            }
            return Err(failure);
        }
        Ok(Some(token))
    }
}
