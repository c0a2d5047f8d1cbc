//! The namespace generation: which remote keys this node reads and writes.
//!
//! A namespace's entries live in one generation at a time. Generation 0 keeps today's form
//! `<namespace>:<key>`, so entries written before generations existed stay readable and no
//! existing key changes; generation `n > 0` writes `<namespace>:@<n>:<key>`. The form is
//! unambiguous: a [`CacheKey`](crate::CacheKey) starts with its escaped name, and `@` is always
//! escaped there, so no key text starts with `@`. The counter itself lives under
//! `<namespace>:@gen`, which is no key of any generation for the same reason.
//!
//! [`Cache::clear`](crate::Cache::clear) increments the counter in the remote tier and moves
//! every node to the new generation: old entries are never read again and expire by their TTL.
//! The current generation sits behind an [`ArcSwap`]: a remote call loads it (an atomic
//! increment, no lock, no allocation beyond the key text it formats anyway); a clear swaps it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use arc_swap::ArcSwap;

use crate::tier::remote::RemoteTier;
use crate::{CacheKey, Result};

/// One generation of a namespace: its number and the prefix of its remote keys.
#[derive(Debug)]
pub(crate) struct Current {
    pub(crate) number: u64,
    /// `<namespace>:` for generation 0, `<namespace>:@<n>:` after.
    prefix: String,
}

impl Current {
    fn new(base: &str, number: u64) -> Current {
        let prefix = match number {
            0 => base.to_string(),
            n => format!("{base}@{n}:"),
        };
        Current { number, prefix }
    }

    /// `key` as the remote tier knows it in this generation.
    pub(crate) fn key(&self, key: &CacheKey) -> String {
        // Two copies into one exact allocation: `format!` costs several times as much on
        // every remote call (it went through `fmt` and grew its buffer).
        let key = key.as_str();
        let mut text = String::with_capacity(self.prefix.len() + key.len());
        text.push_str(&self.prefix);
        text.push_str(key);
        text
    }

    /// `keys` as the remote tier knows them, written one after another into one string, with
    /// where each ends.
    pub(crate) fn keys(&self, keys: &[&CacheKey]) -> (String, Vec<usize>) {
        let len: usize = keys
            .iter()
            .map(|key| self.prefix.len() + key.as_str().len())
            .sum();
        let mut text = String::with_capacity(len);
        let ends = keys
            .iter()
            .map(|key| {
                text.push_str(&self.prefix);
                text.push_str(key.as_str());
                text.len()
            })
            .collect();
        (text, ends)
    }
}

/// A namespace's generation as this node knows it.
pub(crate) struct Generation {
    /// `<namespace>:`: what every remote key and tag of the namespace starts with.
    base: String,
    /// `<namespace>:@gen`: the counter in the remote tier.
    counter: String,
    current: ArcSwap<Current>,
    /// `current`'s number, set after each swap: reading it is one load, where the number
    /// through `current` costs a guard or a reference count on every remote read.
    number: AtomicU64,
    /// Whether the remote tier's generation was read: until then no remote call is made.
    known: AtomicBool,
    /// One read at a time.
    reading: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generation")
            .field("base", &self.base)
            .field("number", &self.current.load().number)
            .finish()
    }
}

impl Generation {
    pub(crate) fn new(base: String) -> Generation {
        Generation {
            counter: format!("{base}@gen"),
            current: ArcSwap::from_pointee(Current::new(&base, 0)),
            number: AtomicU64::new(0),
            base,
            known: AtomicBool::new(false),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The namespace's remote prefix, `<namespace>:`.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The key of the generation counter in the remote tier.
    pub(crate) fn counter(&self) -> &str {
        &self.counter
    }

    /// The generation as last seen (0 before the remote tier was first read).
    pub(crate) fn now(&self) -> Arc<Current> {
        self.current.load_full()
    }

    /// The generation's number as last seen; never older than `now()` read before it.
    pub(crate) fn number(&self) -> u64 {
        self.number.load(Ordering::Acquire)
    }

    /// `key` as the remote tier knows it in the generation as last seen, without holding on
    /// to the generation (no reference count).
    pub(crate) fn key(&self, key: &CacheKey) -> String {
        self.current.load().key(key)
    }

    /// Whether the generation was read from the remote tier.
    pub(crate) fn is_known(&self) -> bool {
        self.known.load(Ordering::Acquire)
    }

    /// Makes sure the generation was read from `tier`, so a node that starts after a clear
    /// never reads the old generation. A failed read is retried by the next call (the error
    /// counts as that call's failure).
    pub(crate) async fn ensure_known(&self, tier: &dyn RemoteTier) -> Result<()> {
        if !self.is_known() {
            // Boxed: only the first call reads, and its future would otherwise be part of
            // (and copied with) every remote call's.
            Box::pin(self.first_read(tier)).await?;
        }
        Ok(())
    }

    async fn first_read(&self, tier: &dyn RemoteTier) -> Result<()> {
        let _reading = self.reading.lock().await;
        if !self.known.load(Ordering::Acquire) {
            let number = tier.generation(&self.counter).await?;
            self.advance_to(number);
            self.known.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Forgets that the generation is known, so the next remote call reads it again (after
    /// an increment whose outcome is unknown).
    pub(crate) fn forget(&self) {
        self.known.store(false, Ordering::Release);
    }

    /// Moves to `number` if it is newer; returns whether it moved. Generations only go
    /// forward, so announcements and re-reads arriving in any order end on the newest.
    pub(crate) fn advance_to(&self, number: u64) -> bool {
        let mut moved = false;
        self.current.rcu(|current| {
            moved = number > current.number;
            if moved {
                Arc::new(Current::new(&self.base, number))
            } else {
                Arc::clone(current)
            }
        });
        // After the swap: whoever reads this number then finds at least that generation.
        self.number.fetch_max(number, Ordering::AcqRel);
        moved
    }

    /// Re-reads the generation from `tier` (after the backplane may have missed an
    /// announcement); returns whether this node moved to a newer one.
    pub(crate) async fn reread(&self, tier: &Weak<dyn RemoteTier>) -> bool {
        let Some(tier) = tier.upgrade() else {
            return false;
        };
        match tier.generation(&self.counter).await {
            Ok(number) => self.advance_to(number),
            Err(error) => {
                tracing::debug!(%error, "could not re-read the namespace generation");
                false
            }
        }
    }

    /// The [`CacheKey`] text inside a remote key of this namespace, in any generation (an
    /// invalidation announced by a node on another generation still names the same entry).
    pub(crate) fn local_key<'k>(&self, remote_key: &'k str) -> Option<&'k str> {
        let rest = remote_key.strip_prefix(self.base.as_str())?;
        let Some(marked) = rest.strip_prefix('@') else {
            return Some(rest);
        };
        let (number, key) = marked.split_once(':')?;
        number.bytes().all(|b| b.is_ascii_digit()).then_some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_zero_keeps_the_plain_form_later_ones_are_marked() {
        let generation = Generation::new("app:".into());
        let key = CacheKey::new("user", &7);
        assert_eq!(generation.now().key(&key), "app:user:7");
        assert!(generation.advance_to(3));
        assert_eq!(generation.now().key(&key), "app:@3:user:7");
        assert!(!generation.advance_to(2), "generations never go back");
        assert_eq!(generation.now().number, 3);
        assert_eq!(generation.counter(), "app:@gen");
    }

    #[test]
    fn remote_keys_of_any_generation_name_the_same_cache_key() {
        let generation = Generation::new("app:".into());
        assert_eq!(generation.local_key("app:user:7"), Some("user:7"));
        assert_eq!(generation.local_key("app:@12:user:7"), Some("user:7"));
        assert_eq!(generation.local_key("other:user:7"), None);
        assert_eq!(generation.local_key("app:@x:user:7"), None);
    }
}
