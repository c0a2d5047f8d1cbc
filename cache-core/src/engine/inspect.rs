//! Inspecting one key across the shared tiers without serving, counting or backfilling it.

use super::Cache;
use crate::codec::Codec;
use crate::tier::inspect::{EntryFacts, KeyInspection, RemoteFinding};
use crate::tier::remote::Stored;
use crate::{CacheKey, clock};

impl Cache {
    /// What the local and remote tiers hold under `key`: lifetimes, size and load time. A
    /// read-only look for tools (an admin route): it records no metrics, fills no tier and
    /// joins no load.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_core::tier::inspect::RemoteFinding;
    /// use cache_core::{Cache, CacheKey, LocalTier, Options};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let cache = Cache::builder().local(LocalTier::new(1 << 20)).build();
    /// let key = CacheKey::new("user", &42);
    /// cache.set(&key, &"Ada".to_string(), &Options::new().ttl(Duration::from_secs(60))).await;
    ///
    /// let found = cache.inspect(&key).await;
    /// let local = found.local.expect("held locally");
    /// assert_eq!(local.state(found.now_ms), "fresh");
    /// assert!(local.size_bytes > 0);
    /// assert_eq!(found.remote, RemoteFinding::NotConfigured);
    /// assert!(cache.inspect(&CacheKey::new("user", &7)).await.local.is_none());
    /// # }
    /// ```
    pub async fn inspect(&self, key: &CacheKey) -> KeyInspection {
        let local = self.inner.local.as_ref().and_then(|local| {
            let entry = local.peek(key.as_str())?;
            let charged = entry.charge(key.as_str().len());
            Some(EntryFacts::new(&entry.meta(), u64::from(charged)))
        });
        let remote = match &self.inner.remote {
            None => RemoteFinding::NotConfigured,
            Some(tier) => match tier.read(&self.remote_key(key)).await {
                Ok(Stored::Absent) => RemoteFinding::Absent,
                Ok(Stored::Leased(_)) => RemoteFinding::Leased,
                Ok(Stored::Entry(bytes, _)) => match Codec::decode_meta(&bytes) {
                    Ok(meta) => RemoteFinding::Entry(EntryFacts::new(&meta, bytes.len() as u64)),
                    Err(error) => RemoteFinding::Corrupt(error.to_string()),
                },
                Err(error) => RemoteFinding::Unreachable(error.to_string()),
            },
        };
        KeyInspection {
            key: key.as_str().to_owned(),
            local,
            remote,
            now_ms: clock::precise_now_ms(),
        }
    }
}
