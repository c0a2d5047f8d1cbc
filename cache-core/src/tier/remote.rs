//! The contract of a shared tier. `cache-redis` implements it for Redis;
//! [`MemoryRemote`](crate::tier::memory::MemoryRemote) implements it in-process.
//!
//! A remote tier moves envelope bytes (see [`codec`](crate::codec)); it never sees typed values.
//! Keys arrive already namespaced. Every call may fail: the engine counts a failure as a miss
//! and goes on, because a remote tier is an accelerator, never a dependency.

use std::sync::Arc;
use std::time::Duration;

use crate::Result;

/// Identifies one write of an entry, or one lease, in a remote tier. Fills are fenced by it:
/// a fill lands only while the token it read (or the lease it took) is still in place, so any
/// invalidation or newer write in between voids it (the memcache "lease" idea).
///
/// The high 64 bits name the node that made it, the low 64 bits count on that node.
///
/// ```
/// use cache_core::Token;
/// let token = Token::new(7, 42);
/// assert_eq!(token.node(), 7);
/// assert_eq!(Token::from_bytes(token.to_bytes()), token);
/// ```
// Two `u64`s rather than one `u128`: 8-byte alignment keeps the values that carry a token
// (local entries, the engine's futures) from growing by padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token {
    node: u64,
    count: u64,
}

impl Token {
    /// The token numbered `count` of node `node`.
    pub fn new(node: u64, count: u64) -> Token {
        Token { node, count }
    }

    /// The node that made this token.
    pub fn node(self) -> u64 {
        self.node
    }

    /// Big-endian bytes (node, then count), as stored next to an entry.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..8].copy_from_slice(&self.node.to_be_bytes());
        out[8..].copy_from_slice(&self.count.to_be_bytes());
        out
    }

    /// The token stored as `bytes`.
    pub fn from_bytes(bytes: [u8; 16]) -> Token {
        let (node, count) = bytes.split_at(8);
        let word = |half: &[u8]| u64::from_be_bytes(half.try_into().unwrap_or([0; 8]));
        Token::new(word(node), word(count))
    }
}

/// What a remote tier holds under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Nothing.
    Absent,
    /// A loader holds the key's lease: the value is being loaded (by the token's node).
    Leased(Token),
    /// An entry's envelope bytes, and the token of the write that stored them (`None` for
    /// tiers or entries without tokens).
    Entry(Vec<u8>, Option<Token>),
}

impl Stored {
    /// The entry's envelope bytes, if this is an entry.
    pub fn into_entry(self) -> Option<Vec<u8>> {
        match self {
            Stored::Entry(bytes, _) => Some(bytes),
            Stored::Leased(_) | Stored::Absent => None,
        }
    }
}

/// Bytes read from a tier without tokens: an entry, or nothing.
impl From<Option<Vec<u8>>> for Stored {
    fn from(found: Option<Vec<u8>>) -> Stored {
        found.map_or(Stored::Absent, |bytes| Stored::Entry(bytes, None))
    }
}

/// What must still be in place under a key for a [`fill`](RemoteTier::fill) to land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// The lease this loader took.
    Lease(Token),
    /// The entry this refresher read.
    Entry(Token),
}

/// What happened when asking for the stampede lease on a cold key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// This process holds the lease: fill the key fenced by [`Fence::Lease`] with this token,
    /// or release it.
    Acquired(Token),
    /// Another loader holds it, or a value landed meanwhile: wait for the value (or for the
    /// lease to expire).
    HeldElsewhere,
    /// The tier has no leases; load right away (fills are then plain, unfenced writes).
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
    /// The namespace whose remote prefix is `namespace` (`<namespace>:`) was cleared: its keys
    /// now live in `generation`. Switch to it and drop the whole local tier.
    Cleared {
        /// The namespace's remote prefix, so caches of other namespaces ignore the event.
        namespace: String,
        /// The generation the namespace moved to.
        generation: u64,
    },
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

    /// Reads one entry with its write token, telling a lease apart from an absent key.
    /// Defaults to [`get`](RemoteTier::get) (no tokens).
    async fn read(&self, key: &str) -> Result<Stored> {
        Ok(self.get(key).await?.into())
    }

    /// [`read`](RemoteTier::read) for many keys, in as few round trips as the tier allows.
    /// The keys are borrowed slices (of one buffer, as the engine builds them).
    async fn read_many(&self, keys: &[&str]) -> Result<Vec<Stored>> {
        let keys: Vec<String> = keys.iter().map(|key| key.to_string()).collect();
        Ok(self
            .get_many(&keys)
            .await?
            .into_iter()
            .map(Stored::from)
            .collect())
    }

    /// An authoritative write (not a load's result): like [`set`](RemoteTier::set), and
    /// returns the token it stored, which voids every outstanding fence on the key.
    async fn write(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
    ) -> Result<Option<Token>> {
        self.set(key, value, ttl, tags).await.map(|()| None)
    }

    /// Writes a load's result only if `fence` is still in place under `key`, in one atomic
    /// step: `Some(token)` when written, `None` when something newer happened to the key since
    /// the load began (an invalidation, a newer write, the lease expired). Tiers without
    /// leases never get here: the engine then uses [`set`](RemoteTier::set).
    async fn fill(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
        fence: Fence,
    ) -> Result<Option<Token>> {
        let _ = (key, value, ttl, tags, fence);
        Ok(None)
    }

    /// Tries to take the stampede lease for a cold `key` for `ttl`. The lease is the key's
    /// fence: an invalidation or write of the key voids it. `tags` are the tags the value will
    /// carry (indexed now, so a tag invalidation during the load voids the lease too).
    /// `takeover` replaces a lease this process left behind (its holder was cancelled).
    async fn try_lease(
        &self,
        key: &str,
        ttl: Duration,
        tags: &[Arc<str>],
        takeover: Option<Token>,
    ) -> Result<Lease> {
        let _ = (key, ttl, tags, takeover);
        Ok(Lease::Unsupported)
    }

    /// Releases a lease taken with [`try_lease`](RemoteTier::try_lease), only if `token` still
    /// owns it.
    async fn release_lease(&self, key: &str, token: Token) -> Result<()> {
        let _ = (key, token);
        Ok(())
    }

    /// The node id this tier puts in its tokens, so the engine can tell its own leases apart.
    fn node_token_id(&self) -> Option<u64> {
        None
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

    /// The current generation stored under `key` (0 when the key is absent). Every node of a
    /// namespace reads it before its first remote call; see
    /// [`Cache::clear`](crate::Cache::clear). Defaults to 0: a tier without generations
    /// keeps every namespace in generation 0.
    async fn generation(&self, key: &str) -> Result<u64> {
        let _ = key;
        Ok(0)
    }

    /// Atomically increments the generation stored under `key` and returns the new value. The
    /// key must not expire or be evicted: a generation that went back would make old entries
    /// readable again. Unsupported by default.
    async fn bump_generation(&self, key: &str) -> Result<u64> {
        let _ = key;
        Err(crate::Error::Unsupported("generations (clear)"))
    }

    /// Makes every entry written with `tag` unreadable.
    async fn invalidate_tag(&self, tag: &str) -> Result<()> {
        let _ = tag;
        Err(crate::Error::Unsupported("tag invalidation"))
    }
}
