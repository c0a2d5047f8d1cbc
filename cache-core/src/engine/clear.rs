//! `clear`: empties the namespace on every node and in the remote tier in O(1), by moving the
//! namespace to a new generation (see [`generation`](super::generation)).

use super::Cache;
use super::fence::Scope;
use crate::Error;
use crate::tier::remote::RemoteEvent;

impl Cache {
    /// Logically empties this cache's namespace: in the remote tier, here, and on every other
    /// node — in O(1), without `SCAN` or `KEYS`, on a single Redis and on a Cluster alike.
    ///
    /// # How
    ///
    /// The namespace's keys carry a generation (`<namespace>:@<n>:<key>`; generation 0 is the
    /// plain `<namespace>:<key>`). `clear` increments the counter `<namespace>:@gen` in the
    /// remote tier (one `HINCRBY` on Redis), switches this node to the new generation, drops
    /// its local and request tiers, and announces the new generation on the backplane so other
    /// nodes switch and drop theirs. Entries of older generations are never read again.
    ///
    /// **Memory:** old entries are not deleted; every remote key has a TTL, so they are gone
    /// within the longest TTL (plus stale window) written before the clear. Tag sets keep
    /// their names across generations (a tag invalidation deletes old members again, which is
    /// harmless). The counter has no TTL on purpose: it is one small key per namespace, never
    /// evicted under the `volatile-*` policies this crate asks for, and a counter that expired
    /// or was evicted would restart at 0 and make the old generations' entries readable again.
    ///
    /// # Coherence
    ///
    /// - **This node:** once `clear` has returned `Ok`, no read that starts afterwards returns
    ///   a value written or loaded before the call — the same guarantee as
    ///   [`invalidate`](Cache::invalidate) for every key. Loads in flight are fenced: their
    ///   local stores are refused (the clear's tombstone covers every key), and their remote
    ///   fills are fenced by a lease or entry token that lives under the old generation's key,
    ///   so they can only land there, where nobody reads.
    /// - **Fail-safe does not resurrect:** a cleared value is gone, not stale; a failing loader
    ///   after a clear gets its error, as after an invalidation.
    /// - **Other nodes:** the same once the backplane delivered the announcement. A node whose
    ///   subscription was down re-reads the generation when it subscribes again (it drops its
    ///   local tier then anyway), so a missed announcement keeps it on the old generation no
    ///   longer than the backplane's trust bound; a node that starts reads the generation
    ///   before its first remote call.
    ///
    /// # Errors
    ///
    /// If the remote tier cannot increment the generation (it is unreachable, or does not
    /// support generations: [`Error::Unsupported`]), this node still drops its local and
    /// request tiers and fences its loads, but the remote tier is not cleared: the error is
    /// returned so the caller can retry. The increment is not queued for replay like an
    /// invalidation: replayed late, it would empty a cache refilled since with values newer
    /// than the request to clear. What is announced (queued while the tier is unreachable)
    /// is a plain local drop: every node drops its local tier and re-reads the generation, and
    /// this node re-reads it before its next remote call, so an increment that happened
    /// although its reply was lost cannot leave nodes on different generations for longer
    /// than the outage. Until a retry succeeds, other nodes' values remain.
    ///
    /// Without a remote tier `clear` drops the local and request tiers and always succeeds.
    ///
    /// # Examples
    ///
    /// ```
    /// use cache_core::{Cache, CacheKey, Options, tier::memory::MemoryRemote};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let shared = MemoryRemote::new();
    /// let (a, b) = (
    ///     Cache::builder().remote(shared.clone()).build(),
    ///     Cache::builder().remote(shared.node()).build(),
    /// );
    /// let key = CacheKey::new("user", &7);
    /// a.set(&key, &"Ada".to_string(), &Options::new()).await;
    /// assert_eq!(b.get::<String>(&key).await.as_deref(), Some("Ada"));
    ///
    /// a.clear().await.unwrap();
    /// assert_eq!(a.get::<String>(&key).await, None);
    /// assert_eq!(b.get::<String>(&key).await, None, "b heard of the clear");
    /// assert_eq!((a.generation(), b.generation()), (1, 1));
    /// assert_eq!(a.remote_key(&key), "app:@1:user:7");
    /// # }
    /// ```
    pub async fn clear(&self) -> Result<(), Error> {
        let Some(remote) = self.remote() else {
            self.drop_here(Scope::All);
            return Ok(());
        };
        let bumped = remote.bump_generation().await;
        if let Ok(generation) = bumped {
            // Switched before the local drop: a read whose ticket passes the drop's fence
            // already uses the new generation.
            self.inner.generation.advance_to(generation);
        }
        self.drop_here(Scope::All);
        let generation = match bumped {
            Ok(generation) => generation,
            Err(error) => {
                // The increment may still have happened (a timeout): this node reads the
                // generation again before its next remote call, and the others drop their
                // local tiers and re-read it when this announcement arrives (queued and
                // replayed by the tier if it is unreachable now).
                self.inner.generation.forget();
                remote.publish(RemoteEvent::Clear).await;
                return Err(error);
            }
        };
        let namespace = self.inner.generation.base().to_string();
        let cleared = RemoteEvent::Cleared {
            namespace,
            generation,
        };
        // A failed announcement is queued for replay by the tier; other nodes that missed it
        // re-read the generation when their subscription comes back.
        remote.publish(cleared).await;
        Ok(())
    }

    /// The generation of the namespace this node reads and writes (0 until the first
    /// [`clear`](Cache::clear) of the namespace, by any node).
    pub fn generation(&self) -> u64 {
        self.generation_now()
    }

    /// The generation as last known, without asking the remote tier.
    pub(crate) fn generation_now(&self) -> u64 {
        self.inner.generation.number()
    }
}
