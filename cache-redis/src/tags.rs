//! Tag invalidation without `SCAN`/`KEYS`.
//!
//! Writing an entry with tags also adds its key to one set per tag, `<tag_prefix><tag>`
//! (default `tag:<tag>`). A tag set's TTL is raised to the entry's TTL whenever it is shorter,
//! so the set lives at least as long as its newest member and every key still has a TTL.
//! `invalidate_tag` deletes the set's members and the set.
//!
//! **Single node: atomic.** The write is one Lua script (`SET … PX`, then `SADD` + `PEXPIRE`
//! per tag) and the invalidation is one Lua script (`SMEMBERS`, `UNLINK` of the members in
//! chunks, `UNLINK` of the set). Scripts run atomically, so there is no read-then-delete race:
//! a write either lands before the invalidation (and is deleted with its tag) or after it (and
//! survives, indexed in a fresh set).
//!
//! **Cluster: per slot, with a documented window.** An entry and its tag sets usually hash to
//! different slots, so no script may touch them together. A write first adds the key to each
//! tag set (a one-key script: `SADD` + TTL), then `SET`s the entry, so an entry is never
//! stored unindexed; a load's lease is indexed the same way before it is taken, so a tag
//! invalidation during the load deletes the lease and the load's fill is fenced out. The
//! invalidation reads the members (`SMEMBERS`) and `UNLINK`s them (the client library splits
//! them per slot), leaving the set: every step can be retried, so an invalidation whose reply
//! was lost (a timeout) is queued and replayed without losing a member, and a key indexed by
//! a load in flight stays findable by the next invalidation. A reader may still get a member
//! during the few milliseconds before its `UNLINK`; the invalidation has not returned then.
//! On a Cluster a tag set therefore holds every key written with the tag during its TTL, and
//! each invalidation deletes them all again (deleting a missing key is cheap). Use a hash tag in your cache keys and tag names
//! (`{chain:7}`) if a tag must be atomic on a Cluster: then everything lives in one slot.
//!
//! Tag sets are not pruned of members that expired on their own; a set is bounded by the
//! distinct keys written with the tag during its lifetime and disappears with its TTL.

use std::sync::Arc;
use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;

use crate::client::{Client, Failure, KeyWrite, millis};

/// `KEYS[1]` entry, `KEYS[2..]` tag sets; `ARGV[1]` value, `ARGV[2]` TTL in ms.
static SET_TAGGED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 2, #KEYS do
    redis.call('SADD', KEYS[i], KEYS[1])
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1",
    )
});

/// Cluster: `KEYS[1]` tag set; `ARGV[1]` member, `ARGV[2]` TTL in ms.
static INDEX: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local ttl = tonumber(ARGV[2])
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1",
    )
});

/// Single node: `KEYS[1]` tag set. Deletes members and set; returns the member count.
static DROP_TAG: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local members = redis.call('SMEMBERS', KEYS[1])
for i = 1, #members, 500 do
    redis.call('UNLINK', unpack(members, i, math.min(i + 499, #members)))
end
redis.call('UNLINK', KEYS[1])
return #members",
    )
});

/// Tag sets: indexing entries under their tags and invalidating a tag.
pub(crate) struct Tags {
    client: Arc<Client>,
    /// `<prefix><tag>` names a tag's set.
    prefix: String,
}

impl Tags {
    pub(crate) fn new(client: Arc<Client>) -> Tags {
        let prefix = client.config().tag_prefix.clone();
        Tags { client, prefix }
    }

    /// The key of `tag`'s set.
    pub(crate) fn key(&self, tag: &str) -> String {
        format!("{}{tag}", self.prefix)
    }

    /// Writes an entry and indexes it under `tags` (not empty).
    pub(crate) async fn set_tagged(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
    ) -> Result<(), Failure> {
        let ttl = millis(ttl);
        if !self.client.is_cluster() {
            let mut invocation = SET_TAGGED.prepare_invoke();
            invocation.key(key);
            for tag in tags {
                invocation.key(self.key(tag));
            }
            invocation.arg(value).arg(ttl);
            let write = KeyWrite::Script(&invocation);
            let _: i64 = self.client.write_key(key, write).await?;
            return Ok(());
        }
        self.index(key, tags, ttl).await?;
        self.client.set_px(key, value, ttl).await
    }

    /// Cluster: adds `key` to each tag set (one call per set: they live in other slots) and
    /// keeps each set alive at least `ttl` ms.
    pub(crate) async fn index(
        &self,
        key: &str,
        tags: &[Arc<str>],
        ttl: u64,
    ) -> Result<(), Failure> {
        for tag in tags {
            let mut invocation = INDEX.prepare_invoke();
            invocation.key(self.key(tag)).arg(key).arg(ttl);
            let _: i64 = self.client.invoke(&invocation).await?;
        }
        Ok(())
    }

    /// Deletes every entry indexed under `tag`, and the index.
    pub(crate) async fn invalidate(&self, tag: &str) -> Result<(), Failure> {
        let tag_key = self.key(tag);
        if !self.client.is_cluster() {
            let mut invocation = DROP_TAG.prepare_invoke();
            invocation.key(tag_key);
            let _: i64 = self.client.invoke(&invocation).await?;
            return Ok(());
        }
        // Read the members and delete them; the set itself is left alone (it expires with
        // its newest member). Removing members would be unsafe: a load indexes its key before
        // taking its lease, and a member removed after that re-indexing would hide the key
        // from the next invalidation while its fill still lands. Keeping them also makes the
        // invalidation retry-safe: a lost reply leaves everything in place for the replay.
        let mut cmd = redis::cmd("SMEMBERS");
        cmd.arg(&tag_key);
        let members: Vec<String> = self.client.query(&cmd).await?;
        for chunk in members.chunks(500) {
            let mut unlink = redis::cmd("UNLINK");
            unlink.arg(chunk);
            let _: i64 = self.client.query(&unlink).await?;
        }
        Ok(())
    }
}
