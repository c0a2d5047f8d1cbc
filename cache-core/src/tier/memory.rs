//! An in-process [`RemoteTier`]: what a shared Redis looks like to several nodes, without Redis.
//!
//! [`MemoryRemote::new`] creates the shared store; [`MemoryRemote::node`] returns another handle
//! on the same store that behaves like a second process (its own backplane identity). Useful for
//! tests of multi-node behaviour and for demos; it honours TTLs, leases, tags and can be made to
//! fail on purpose.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::remote::{Fence, Lease, RemoteEvent, RemoteListener, RemoteTier, Stored, Token};
use crate::{Cause, Error, Result};

mod inspect;

/// What a key holds: an entry with the token of its write, or a lease — one slot, as in Redis,
/// so an invalidation or write of the key voids the lease.
enum Held {
    Entry(Vec<u8>, Token),
    Lease(Token),
}

#[derive(Default)]
struct Store {
    entries: HashMap<String, (Held, Instant)>,
    tags: HashMap<String, HashSet<String>>,
    /// Namespace generations: never expire, as the contract asks.
    generations: HashMap<String, u64>,
    listeners: Vec<(u64, RemoteListener)>,
}

impl Store {
    fn live(&self, key: &str) -> Option<&Held> {
        let now = Instant::now();
        self.entries
            .get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(held, _)| held)
    }

    fn stored(&self, key: &str) -> Stored {
        match self.live(key) {
            Some(Held::Entry(bytes, token)) => Stored::Entry(bytes.clone(), Some(*token)),
            Some(Held::Lease(token)) => Stored::Leased(*token),
            None => Stored::Absent,
        }
    }

    fn index(&mut self, key: &str, tags: &[Arc<str>]) {
        for tag in tags {
            self.tags
                .entry(tag.to_string())
                .or_default()
                .insert(key.to_string());
        }
    }
}

#[derive(Default)]
struct Shared {
    store: Mutex<Store>,
    failing: AtomicBool,
    next_node: AtomicU64,
    next_token: AtomicU64,
    gets: AtomicU64,
    sets: AtomicU64,
    deletes: AtomicU64,
}

/// A shared in-memory remote tier.
///
/// ```
/// use cache_core::{RemoteTier, tier::memory::MemoryRemote};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let remote = MemoryRemote::new();
/// remote.set("k", b"v", std::time::Duration::from_secs(1), &[]).await.unwrap();
/// assert_eq!(remote.get("k").await.unwrap(), Some(b"v".to_vec()));
/// assert_eq!(remote.ttl_of("k").is_some(), true);
/// # }
/// ```
#[derive(Clone)]
pub struct MemoryRemote {
    shared: Arc<Shared>,
    node: u64,
}

impl Default for MemoryRemote {
    fn default() -> Self {
        MemoryRemote::new()
    }
}

impl MemoryRemote {
    /// A new, empty store and a first node handle on it.
    pub fn new() -> MemoryRemote {
        MemoryRemote {
            shared: Arc::new(Shared::default()),
            node: 0,
        }
    }

    /// Another node's handle on the same store.
    pub fn node(&self) -> MemoryRemote {
        MemoryRemote {
            shared: Arc::clone(&self.shared),
            node: self.shared.next_node.fetch_add(1, Relaxed) + 1,
        }
    }

    /// While `true`, every call fails as if the server were unreachable.
    pub fn set_failing(&self, failing: bool) {
        self.shared.failing.store(failing, Relaxed);
    }

    /// Writes raw bytes, bypassing the codec (for corrupt-entry tests).
    pub fn put_raw(&self, key: &str, bytes: Vec<u8>, ttl: Duration) {
        let token = self.token();
        self.shared.store.lock().entries.insert(
            key.to_string(),
            (Held::Entry(bytes, token), Instant::now() + ttl),
        );
    }

    /// The raw bytes under `key`, if an entry is present and not expired.
    pub fn raw(&self, key: &str) -> Option<Vec<u8>> {
        self.shared.store.lock().stored(key).into_entry()
    }

    /// Stores an entry as a new write and indexes it under `tags`; returns its token.
    fn put(
        &self,
        store: &mut Store,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
    ) -> Token {
        self.shared.sets.fetch_add(1, Relaxed);
        let token = self.token();
        let held = Held::Entry(value.to_vec(), token);
        store
            .entries
            .insert(key.to_string(), (held, Instant::now() + ttl));
        store.index(key, tags);
        token
    }

    fn token(&self) -> Token {
        Token::new(self.node, self.shared.next_token.fetch_add(1, Relaxed) + 1)
    }

    fn check(&self) -> Result<()> {
        if self.shared.failing.load(Relaxed) {
            Err(Error::Remote(Cause::message(
                "memory remote is failing on purpose",
            )))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl RemoteTier for MemoryRemote {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.check()?;
        self.shared.gets.fetch_add(1, Relaxed);
        Ok(self.shared.store.lock().stored(key).into_entry())
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        self.check()?;
        self.shared.gets.fetch_add(keys.len() as u64, Relaxed);
        let store = self.shared.store.lock();
        Ok(keys.iter().map(|k| store.stored(k).into_entry()).collect())
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration, tags: &[Arc<str>]) -> Result<()> {
        self.write(key, value, ttl, tags).await.map(drop)
    }

    async fn read(&self, key: &str) -> Result<Stored> {
        self.check()?;
        self.shared.gets.fetch_add(1, Relaxed);
        Ok(self.shared.store.lock().stored(key))
    }

    async fn read_many(&self, keys: &[&str]) -> Result<Vec<Stored>> {
        self.check()?;
        self.shared.gets.fetch_add(keys.len() as u64, Relaxed);
        let store = self.shared.store.lock();
        Ok(keys.iter().map(|k| store.stored(k)).collect())
    }

    async fn write(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
    ) -> Result<Option<Token>> {
        self.check()?;
        let mut store = self.shared.store.lock();
        Ok(Some(self.put(&mut store, key, value, ttl, tags)))
    }

    async fn fill(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
        fence: Fence,
    ) -> Result<Option<Token>> {
        self.check()?;
        let mut store = self.shared.store.lock();
        let in_place = match (store.live(key), fence) {
            (Some(Held::Lease(held)), Fence::Lease(expected)) => *held == expected,
            (Some(Held::Entry(_, held)), Fence::Entry(expected)) => *held == expected,
            _ => false,
        };
        Ok(in_place.then(|| self.put(&mut store, key, value, ttl, tags)))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.check()?;
        self.shared.deletes.fetch_add(1, Relaxed);
        self.shared.store.lock().entries.remove(key);
        Ok(())
    }

    async fn try_lease(
        &self,
        key: &str,
        ttl: Duration,
        tags: &[Arc<str>],
        takeover: Option<Token>,
    ) -> Result<Lease> {
        self.check()?;
        let mut store = self.shared.store.lock();
        let free = match store.live(key) {
            None => true,
            Some(Held::Lease(held)) => takeover == Some(*held),
            Some(Held::Entry(..)) => false,
        };
        if !free {
            return Ok(Lease::HeldElsewhere);
        }
        let token = self.token();
        store
            .entries
            .insert(key.to_string(), (Held::Lease(token), Instant::now() + ttl));
        // Indexed now, so a tag invalidation during the load voids the lease.
        store.index(key, tags);
        Ok(Lease::Acquired(token))
    }

    async fn release_lease(&self, key: &str, token: Token) -> Result<()> {
        self.check()?;
        let mut store = self.shared.store.lock();
        if matches!(store.live(key), Some(Held::Lease(held)) if *held == token) {
            store.entries.remove(key);
        }
        Ok(())
    }

    fn node_token_id(&self) -> Option<u64> {
        Some(self.node)
    }

    async fn publish(&self, event: RemoteEvent) -> Result<()> {
        self.check()?;
        let listeners: Vec<RemoteListener> = {
            let store = self.shared.store.lock();
            store
                .listeners
                .iter()
                .filter(|(node, _)| *node != self.node)
                .map(|(_, l)| Arc::clone(l))
                .collect()
        };
        for listener in listeners {
            listener(event.clone());
        }
        Ok(())
    }

    fn subscribe(&self, listener: RemoteListener) {
        self.shared
            .store
            .lock()
            .listeners
            .push((self.node, listener));
    }

    async fn generation(&self, key: &str) -> Result<u64> {
        self.check()?;
        Ok(self
            .shared
            .store
            .lock()
            .generations
            .get(key)
            .copied()
            .unwrap_or(0))
    }

    async fn bump_generation(&self, key: &str) -> Result<u64> {
        self.check()?;
        let mut store = self.shared.store.lock();
        let generation = store.generations.entry(key.to_string()).or_default();
        *generation += 1;
        Ok(*generation)
    }

    async fn invalidate_tag(&self, tag: &str) -> Result<()> {
        self.check()?;
        let mut store = self.shared.store.lock();
        for key in store.tags.remove(tag).unwrap_or_default() {
            store.entries.remove(&key);
        }
        Ok(())
    }
}
