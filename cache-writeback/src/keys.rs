//! Key names: every key of one shard shares the hash tag `{<prefix><name>:<shard>}`, so the
//! scripts that touch several of them run on one Cluster slot.

/// The names of one shard's keys.
#[derive(Debug, Clone)]
pub(crate) struct Shard {
    /// `{<prefix><name>:<shard>}`: also the prefix scripts build per-entity and batch keys from.
    pub(crate) tag: String,
    /// ZSET entity → time (ms) it first became dirty.
    pub(crate) dirty: String,
    /// ZSET batch id → time (ms) it may be claimed (again).
    pub(crate) inflight: String,
    /// HASH `epoch`, `clock`.
    pub(crate) state: String,
}

impl Shard {
    pub(crate) fn new(prefix: &str, name: &str, index: usize) -> Shard {
        let tag = format!("{{{prefix}{name}:{index}}}");
        Shard {
            dirty: format!("{tag}:dirty"),
            inflight: format!("{tag}:inflight"),
            state: format!("{tag}:state"),
            tag,
        }
    }

    /// HASH of an entity's pending changes: `c:<field>` → delta, `s:<field>` → `version:value`.
    pub(crate) fn live(&self, entity: &str) -> String {
        format!("{}:e:{entity}", self.tag)
    }
}

/// Which of `shards` holds `entity`: FNV-1a, the same in every process and release.
pub(crate) fn shard_of(entity: &str, shards: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in entity.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % shards.max(1) as u64) as usize
}

/// A random 128-bit id in hex.
pub(crate) fn random_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_share_one_hash_tag() {
        let shard = Shard::new("wb:", "likes", 3);
        assert_eq!(shard.dirty, "{wb:likes:3}:dirty");
        assert_eq!(shard.live("post:{7}"), "{wb:likes:3}:e:post:{7}");
        assert_eq!(shard_of("post:1", 1), 0);
        assert_eq!(shard_of("", 8), shard_of("", 8));
        // Pinned: every process must agree on where an entity lives.
        assert_eq!(shard_of("post:42", 8), 1);
        assert_ne!(random_id(), random_id());
    }
}
