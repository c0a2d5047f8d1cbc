//! The engine's calls ([`RemoteTier`]) mapped onto the layers: reads and deletes on the
//! client, writes, leases and fills on the fenced writes, events on the backplane, tags on the
//! tag sets; whatever fails for an outage is queued for recovery.

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Fence, Lease, RemoteEvent, RemoteListener, RemoteTier, Stored, Token};

use super::RedisTier;
use crate::backplane::Wire;
use crate::fenced;
use crate::recovery::Op;

/// The field of a namespace's counter hash that holds its generation.
const GENERATION_FIELD: &str = "n";

#[async_trait::async_trait]
impl RemoteTier for RedisTier {
    async fn get(&self, key: &str) -> cache_core::Result<Option<Vec<u8>>> {
        Ok(self.read(key).await?.into_entry())
    }

    async fn get_many(&self, keys: &[String]) -> cache_core::Result<Vec<Option<Vec<u8>>>> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let found = self.read_many(&keys).await?;
        Ok(found.into_iter().map(Stored::into_entry).collect())
    }

    async fn read(&self, key: &str) -> cache_core::Result<Stored> {
        let layers = &self.layers;
        // Checked before the GET too: a replay that deletes the key may finish while the GET
        // is on its way back, and what the GET found predates the delete.
        let covered = layers.recovery.covers(key);
        // Sized up front: `redis::cmd` starts empty and grows its buffers on every call.
        let mut cmd = redis::Cmd::with_capacity(2, "GET".len() + key.len());
        cmd.arg("GET").arg(key);
        let found: Option<Vec<u8>> = layers.client.query(&cmd).await?;
        if covered || layers.recovery.covers(key) {
            // A change of this node's to the key is (or was, while the GET ran) still queued:
            // what Redis holds may be what it invalidated.
            return Ok(Stored::Absent);
        }
        Ok(found.map_or(Stored::Absent, fenced::parse))
    }

    async fn read_many(&self, keys: &[&str]) -> cache_core::Result<Vec<Stored>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let layers = &self.layers;
        // As in `read`: covered before or after the MGET (each key looked at only when
        // something is queued or replaying at all).
        let recovery = &layers.recovery;
        let covered: Option<Vec<bool>> =
            (!recovery.idle()).then(|| keys.iter().map(|k| recovery.covers(k)).collect());
        let bytes = keys.iter().map(|key| key.len()).sum::<usize>();
        let mut cmd = redis::Cmd::with_capacity(keys.len() + 1, "MGET".len() + bytes);
        cmd.arg("MGET").arg(keys);
        let found: Vec<Option<Vec<u8>>> = layers.client.query(&cmd).await?;
        let idle_after = recovery.idle();
        let covered_before = |i: usize| covered.as_ref().is_some_and(|c| c[i]);
        Ok(found
            .into_iter()
            .zip(keys)
            .enumerate()
            .map(|(i, (bytes, key))| match bytes {
                Some(bytes) if !covered_before(i) && (idle_after || !recovery.covers(key)) => {
                    fenced::parse(bytes)
                }
                _ => Stored::Absent,
            })
            .collect())
    }

    async fn set(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
    ) -> cache_core::Result<()> {
        RemoteTier::write(self, key, value, ttl, tags)
            .await
            .map(drop)
    }

    async fn write(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
    ) -> cache_core::Result<Option<Token>> {
        let layers = &self.layers;
        let token = layers.leases.next_token();
        let result = layers.leases.write(key, value, ttl, tags, token).await;
        if result.is_ok() {
            layers.recovery.forget_key(key);
        }
        // Replayed later as a delete, never as this write: by then something newer may have
        // happened to the key elsewhere, and a delete is always safe.
        layers
            .recovery
            .settle(result, || Op::Delete(key.to_string()))
            .map(|()| Some(token))
    }

    async fn fill(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[Arc<str>],
        fence: Fence,
    ) -> cache_core::Result<Option<Token>> {
        // Never queued: a fill that did not land is dropped, it is only a cache fill.
        Ok(self
            .layers
            .leases
            .fill(key, value, ttl, tags, fence)
            .await?)
    }

    async fn delete(&self, key: &str) -> cache_core::Result<()> {
        let layers = &self.layers;
        let result = layers.client.unlink(key).await;
        if result.is_ok() {
            layers.recovery.forget_key(key);
        }
        layers
            .recovery
            .settle(result, || Op::Delete(key.to_string()))
    }

    async fn try_lease(
        &self,
        key: &str,
        ttl: Duration,
        tags: &[Arc<str>],
        takeover: Option<Token>,
    ) -> cache_core::Result<Lease> {
        let layers = &self.layers;
        if layers.recovery.covers(key) {
            // Redis may still hold what this node invalidated; a lease cannot be taken over
            // it, and waiting for one would stall until the replay. Load without a fence (the
            // engine then writes only locally).
            return Err(cache_core::Error::RemoteUnavailable);
        }
        Ok(layers.leases.try_lease(key, ttl, tags, takeover).await?)
    }

    async fn release_lease(&self, key: &str, token: Token) -> cache_core::Result<()> {
        Ok(self.layers.leases.release_lease(key, token).await?)
    }

    fn node_token_id(&self) -> Option<u64> {
        Some(self.layers.leases.node())
    }

    async fn publish(&self, event: RemoteEvent) -> cache_core::Result<()> {
        let layers = &self.layers;
        if matches!(event, RemoteEvent::Invalidate(_))
            && !layers.client.config().invalidation.publishes_keys()
        {
            // Key tracking reports the change to every node: the key changed in Redis first.
            return Ok(());
        }
        let result = layers.backplane.publish(&event).await;
        layers
            .recovery
            .settle(result, || Op::Publish(Wire::from(&event)))
    }

    fn subscribe(&self, listener: RemoteListener) {
        if let Some(tracking) = &self.layers.tracking {
            tracking.subscribe(Arc::clone(&listener));
        }
        self.layers.backplane.subscribe(listener);
    }

    /// `HGET key n`: the counter is a field of a small hash rather than a string, so the
    /// namespace can carry more about itself later (when it was last cleared) under the same
    /// never-expiring key, and a node's one-time read of it is not counted among entry `GET`s.
    async fn generation(&self, key: &str) -> cache_core::Result<u64> {
        let mut cmd = redis::cmd("HGET");
        cmd.arg(key).arg(GENERATION_FIELD);
        let found: Option<u64> = self.layers.client.query(&cmd).await?;
        Ok(found.unwrap_or(0))
    }

    /// `HINCRBY key n 1`: one command in one slot, on a single node and on a Cluster alike.
    /// The counter gets no TTL (see `Cache::clear` for why). Not queued when Redis is
    /// unreachable, and a late or repeated increment is harmless: it only skips a generation
    /// nobody wrote to.
    async fn bump_generation(&self, key: &str) -> cache_core::Result<u64> {
        let mut cmd = redis::cmd("HINCRBY");
        cmd.arg(key).arg(GENERATION_FIELD).arg(1);
        Ok(self.layers.client.query(&cmd).await?)
    }

    async fn invalidate_tag(&self, tag: &str) -> cache_core::Result<()> {
        let layers = &self.layers;
        let result = layers.tags.invalidate(tag).await;
        if result.is_ok() {
            layers.recovery.forget_tag(tag);
        }
        layers
            .recovery
            .settle(result, || Op::DropTag(tag.to_string()))
    }
}
