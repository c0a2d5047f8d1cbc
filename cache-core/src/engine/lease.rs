//! The remote stampede lease, seen from the engine. The lease is also the fence of a cold
//! load: the fill lands only while the lease is still in place, and any invalidation or
//! write of the key in between voids it.

use std::time::{Duration, Instant};

use super::Cache;
use super::io::RemoteRead;
use crate::stats::{Stats, TierName};
use crate::tier::remote::{Lease, Token};
use crate::{CacheKey, Cacheable, Options};

/// Longest pause between two polls while another process holds the lease.
const LEASE_POLL_MAX: Duration = Duration::from_millis(100);

/// What taking the lease gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeaseState {
    /// Ours: the load's fence.
    Held(Token),
    /// Another loader's (or a value landed meanwhile).
    Elsewhere,
    /// The tier has no leases: plain writes.
    Unsupported,
    /// The tier failed, or there is none: nothing to fence with.
    Failed,
}

/// What waiting for another process's load gave.
pub(crate) enum LeaseWait<T> {
    Value(T),
    Lease(LeaseState),
}

impl Cache {
    /// Whether `token` was made by this process's remote tier.
    pub(crate) fn is_own(&self, token: Token) -> bool {
        let node = self.inner.remote.as_ref().and_then(|r| r.node_token_id());
        node == Some(token.node())
    }

    /// Takes the lease for `key`; `takeover` replaces this process's own orphaned lease (its
    /// holder was cancelled before releasing it), so nobody here waits on it.
    pub(crate) async fn take_lease(
        &self,
        key: &CacheKey,
        opts: &Options,
        takeover: Option<Token>,
    ) -> LeaseState {
        let Some(remote) = self.remote_for(opts) else {
            return LeaseState::Failed;
        };
        let remote_key = self.remote_key(key);
        let tags = self.remote_tags(opts);
        let lease = remote.try_lease(&remote_key, opts.lease_ttl, &tags, takeover);
        match self.timed_remote("lease", lease).await {
            Ok(Lease::Acquired(token)) => LeaseState::Held(token),
            Ok(Lease::HeldElsewhere) => LeaseState::Elsewhere,
            Ok(Lease::Unsupported) => LeaseState::Unsupported,
            Err(error) => {
                self.tier_error(&error, "lease");
                LeaseState::Failed
            }
        }
    }

    /// Another process is loading this key: poll the remote tier with backoff until its value
    /// lands, or its lease ends (then take it), or the lease TTL passed.
    pub(crate) async fn await_other_process<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
    ) -> LeaseWait<T> {
        Stats::bump(&self.inner.stats.lease_waits);
        let deadline = Instant::now() + opts.lease_ttl;
        let mut pause = Duration::from_millis(5);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(LEASE_POLL_MAX);
            match self.read_remote::<T>(key, opts, self.ticket()).await {
                RemoteRead::Found(found, _) => {
                    self.inner.stats.hit(TierName::Remote);
                    return LeaseWait::Value(found.value);
                }
                RemoteRead::Leased(token) if self.is_own(token) => {
                    return LeaseWait::Lease(self.take_lease(key, opts, Some(token)).await);
                }
                RemoteRead::Leased(_) => {}
                RemoteRead::Absent => match self.take_lease(key, opts, None).await {
                    LeaseState::Elsewhere => {}
                    state => return LeaseWait::Lease(state),
                },
                RemoteRead::Failed | RemoteRead::Off => {
                    return LeaseWait::Lease(LeaseState::Failed);
                }
            }
        }
        LeaseWait::Lease(self.take_lease(key, opts, None).await)
    }

    pub(crate) async fn release_lease(&self, key: &CacheKey, token: Token) {
        if let Some(remote) = &self.inner.remote
            && let Err(error) = self
                .timed_remote(
                    "release_lease",
                    remote.release_lease(&self.remote_key(key), token),
                )
                .await
        {
            self.tier_error(&error, "release_lease");
        }
    }
}

/// Releases a held lease when the load that holds it ends without filling the key — also when
/// its caller is cancelled or the loader panics, so a takeover never waits out the lease TTL.
pub(crate) struct LeaseGuard {
    held: Option<(Cache, CacheKey, Token)>,
}

impl LeaseGuard {
    pub(crate) fn new(cache: &Cache, key: &CacheKey, state: LeaseState) -> LeaseGuard {
        LeaseGuard {
            held: match state {
                LeaseState::Held(token) => Some((cache.clone(), key.clone(), token)),
                _ => None,
            },
        }
    }

    /// The fill replaced the lease: nothing to release.
    pub(crate) fn filled(mut self) {
        self.held = None;
    }

    pub(crate) async fn release(mut self) {
        if let Some((cache, key, token)) = self.held.take() {
            cache.release_lease(&key, token).await;
        }
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        let Some((cache, key, token)) = self.held.take() else {
            return;
        };
        // Dropped mid-load: release on a task of its own. Without a runtime (it is shutting
        // down) the lease simply expires; this process's next leader takes it over anyway.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { cache.release_lease(&key, token).await });
        }
    }
}
