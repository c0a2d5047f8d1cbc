//! The remote tier as the engine calls it: [`Remote`] namespaces keys and tags, times every
//! call, counts and logs every failure, and offers one typed method per operation, so each
//! call names its operation once.

use std::sync::Arc;
use std::time::Duration;

use super::generation::Current;
use super::remote_call::{Counted, TierCall, count_failure};
use super::{Cache, Inner};
use crate::codec::EntryMeta;
use crate::metrics::Event;
use crate::stats::TierName;
use crate::tier::remote::{Fence, Lease, RemoteEvent, RemoteTier, Stored, Token};
use crate::{CacheKey, Error, Options, Result, clock};

/// A remote call failed; the failure has been counted and logged, and counts as a miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failed;

/// A borrowed view of the cache's remote tier with what every call needs: the key prefix
/// and the recorder, read from the cache (two pointers, as it is held across awaits).
#[derive(Clone, Copy)]
pub(crate) struct Remote<'a> {
    tier: &'a Arc<dyn RemoteTier>,
    inner: &'a Inner,
}

impl Cache {
    /// The remote tier, if there is one and `opts` let this call use it.
    pub(crate) fn remote_for(&self, opts: &Options) -> Option<Remote<'_>> {
        self.remote().filter(|_| opts.uses(crate::Tiers::REMOTE))
    }

    /// The remote tier, whatever the options (invalidations reach it always).
    pub(crate) fn remote(&self) -> Option<Remote<'_>> {
        let tier = self.inner.remote.as_ref()?;
        Some(Remote {
            tier,
            inner: &self.inner,
        })
    }
}

impl Remote<'_> {
    /// Reads the generation from the tier on first use, so a node never reads a generation
    /// older than the one the tier holds. A failed read is counted.
    async fn generation_known(&self) -> Result<(), Failed> {
        let generation = &self.inner.generation;
        generation
            .ensure_known(&**self.tier)
            .await
            .map_err(|error| {
                count_failure(&self.inner.recorder, TierName::Remote, &error, "generation");
                Failed
            })
    }

    /// The generation to call the tier with (see [`generation_known`](Self::generation_known)).
    pub(crate) async fn current(&self) -> Result<Arc<Current>, Failed> {
        self.generation_known().await?;
        Ok(self.inner.generation.now())
    }

    /// `key` as the tier knows it in the generation to call it with: without holding on to
    /// the generation, the cheaper form for calls that need only the key.
    async fn key(&self, key: &CacheKey) -> Result<String, Failed> {
        let generation = &self.inner.generation;
        if !generation.is_known() {
            // Boxed: once per process, and kept out of every call's future.
            Box::pin(self.generation_known()).await?;
        }
        Ok(generation.key(key))
    }

    /// The generation as last known, for changes that must reach the tier even when it could
    /// not be read (the tier queues them for replay).
    fn last_known(&self) -> Arc<Current> {
        self.inner.generation.now()
    }

    /// `tag` as the remote tier knows it. Tags are not per generation: a tag set may hold
    /// keys of older generations too, and deleting those again is harmless.
    pub(crate) fn tag(&self, tag: &str) -> String {
        format!("{}{tag}", self.inner.generation.base())
    }

    /// The namespaced tags of a write with `opts`.
    pub(crate) fn tags(&self, opts: &Options) -> Vec<Arc<str>> {
        let tags = opts.tag_list().unwrap_or(&[]);
        tags.iter().map(|tag| Arc::from(self.tag(tag))).collect()
    }

    /// Key (in generation `current`), TTL and tags of a write of an entry with lifetimes
    /// `meta`. The TTL is the end of the stale window: every key expires by itself.
    fn write_args(
        &self,
        current: &Current,
        key: &CacheKey,
        meta: &EntryMeta,
        opts: &Options,
    ) -> (String, Duration, Vec<Arc<str>>) {
        let ttl = clock::until(meta.stale_until_ms, clock::now_ms());
        let ttl = ttl.unwrap_or(Duration::from_millis(1));
        (current.key(key), ttl, self.tags(opts))
    }

    /// Whether `token` was made by this process's remote tier.
    pub(crate) fn is_own(&self, token: Token) -> bool {
        self.tier.node_token_id() == Some(token.node())
    }

    pub(crate) async fn read(&self, key: &CacheKey) -> Result<Stored, Failed> {
        let key = self.key(key).await?;
        // The counted call awaited directly: the hottest call keeps one layer of future less.
        let call = self.call_counted("get", self.tier.read(&key));
        call.await.map_err(|_| Failed)
    }

    pub(crate) async fn read_many(&self, keys: &[&CacheKey]) -> Result<Vec<Stored>, Failed> {
        let current = self.current().await?;
        // One buffer for all the keys instead of one allocation each.
        let (text, ends) = current.keys(keys);
        let mut start = 0;
        let keys: Vec<&str> = ends
            .iter()
            .map(|&end| {
                let key = &text[start..end];
                start = end;
                key
            })
            .collect();
        self.call("get_many", self.tier.read_many(&keys)).await
    }

    /// Writes a load's result only while `fence` is in place; `Ok(None)`: it was not. A fence
    /// is a lease or entry token under the key of the load's generation, so after a clear no
    /// fence is in place under the new generation's key and the fill is refused.
    pub(crate) async fn fill(
        &self,
        key: &CacheKey,
        bytes: &[u8],
        meta: &EntryMeta,
        opts: &Options,
        fence: Fence,
    ) -> Result<Option<Token>, Failed> {
        let current = self.current().await?;
        let (key, ttl, tags) = self.write_args(&current, key, meta, opts);
        let fill = self.tier.fill(&key, bytes, ttl, &tags, fence);
        self.call("fill", fill).await
    }

    /// A plain write (a tier without leases cannot fence) of a load that started in
    /// `generation`; `Ok(false)` if the namespace was cleared since: the value may predate
    /// the clear, and a plain write has no fence to refuse it.
    pub(crate) async fn set(
        &self,
        key: &CacheKey,
        bytes: &[u8],
        meta: &EntryMeta,
        opts: &Options,
        generation: u64,
    ) -> Result<bool, Failed> {
        let current = self.current().await?;
        if current.number != generation {
            return Ok(false);
        }
        let (key, ttl, tags) = self.write_args(&current, key, meta, opts);
        self.call("set", self.tier.set(&key, bytes, ttl, &tags))
            .await
            .map(|()| true)
    }

    /// An authoritative write, voiding every fence on the key; its token when the tier has one.
    pub(crate) async fn write(
        &self,
        key: &CacheKey,
        bytes: &[u8],
        meta: &EntryMeta,
        opts: &Options,
    ) -> Result<Option<Token>, Failed> {
        let current = self.current().await?;
        let (key, ttl, tags) = self.write_args(&current, key, meta, opts);
        self.call("set", self.tier.write(&key, bytes, ttl, &tags))
            .await
    }

    // The operations below return nothing: a failure is counted and logged, and their
    // callers go on the same way (the tier queues deletes and announcements for replay).

    pub(crate) async fn delete(&self, key: &CacheKey) {
        let current = self
            .current()
            .await
            .unwrap_or_else(|Failed| self.last_known());
        let _ = self
            .call("delete", self.tier.delete(&current.key(key)))
            .await;
    }

    pub(crate) async fn invalidate_tag(&self, tag: &str) {
        let tag = self.tag(tag);
        let _ = self
            .call("invalidate_tag", self.tier.invalidate_tag(&tag))
            .await;
    }

    /// Tells other nodes that `key` changed, so they drop their local copy.
    pub(crate) async fn announce_key(&self, key: &CacheKey) {
        // Receivers drop the key whatever generation it names.
        let key = self.last_known().key(key);
        self.publish(RemoteEvent::Invalidate(key)).await;
    }

    /// Tells other nodes that the entries tagged `tag` changed.
    pub(crate) async fn announce_tag(&self, tag: &str) {
        self.publish(RemoteEvent::InvalidateTag(self.tag(tag)))
            .await;
    }

    pub(crate) async fn publish(&self, event: RemoteEvent) {
        let _ = self.call("publish", self.tier.publish(event)).await;
    }

    /// Takes `key`'s stampede lease (`takeover`: replacing this process's orphaned one).
    pub(crate) async fn lease(
        &self,
        key: &CacheKey,
        opts: &Options,
        takeover: Option<Token>,
    ) -> Result<Lease, Failed> {
        let key = self.key(key).await?;
        let tags = self.tags(opts);
        let lease = self
            .tier
            .try_lease(&key, opts.lease_ttl_value(), &tags, takeover);
        self.call("lease", lease).await
    }

    pub(crate) async fn release_lease(&self, key: &CacheKey, token: Token) {
        // The lease lives in the generation it was taken in; after a clear it expires there.
        let Ok(current) = self.current().await else {
            return;
        };
        let key = current.key(key);
        let _ = self
            .call("release_lease", self.tier.release_lease(&key, token))
            .await;
    }

    /// Counts an entry that did not decode as a remote-tier failure.
    pub(crate) fn count_corrupt(&self, error: &Error) {
        self.inner.recorder.record(Event::CorruptEntry);
        count_failure(&self.inner.recorder, TierName::Remote, error, "decode");
    }

    /// Increments the namespace generation in the tier; the new generation.
    pub(crate) async fn bump_generation(&self) -> Result<u64> {
        let counter = self.inner.generation.counter();
        self.call_counted("clear", self.tier.bump_generation(counter))
            .await
    }
}

impl<'b> Remote<'b> {
    /// Awaits one operation: its duration is recorded, a failure counted and logged.
    async fn call<R>(&self, operation: &'static str, call: TierCall<'_, R>) -> Result<R, Failed> {
        self.call_counted(operation, call).await.map_err(|_| Failed)
    }

    /// [`call`](Remote::call), keeping the error for callers that return it.
    fn call_counted<'a, R: 'a>(
        &self,
        operation: &'static str,
        call: TierCall<'a, R>,
    ) -> Counted<'a, R>
    where
        'b: 'a,
    {
        Counted::new(self.inner, operation, call)
    }
}
