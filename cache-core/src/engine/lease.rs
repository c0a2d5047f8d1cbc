//! The remote stampede lease, seen from the engine. The lease is also the fence of a cold
//! load: the fill lands only while the lease is still in place, and any invalidation or
//! write of the key in between voids it.

use std::time::{Duration, Instant};

use super::Cache;
use super::read_remote::RemoteRead;
use crate::metrics::Event;
use crate::stats::TierName;
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
        self.remote().is_some_and(|remote| remote.is_own(token))
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
        match remote.lease(key, opts, takeover).await {
            Ok(Lease::Acquired(token)) => LeaseState::Held(token),
            Ok(Lease::HeldElsewhere) => LeaseState::Elsewhere,
            Ok(Lease::Unsupported) => LeaseState::Unsupported,
            Err(_) => LeaseState::Failed,
        }
    }

    /// Another process is loading this key: poll the remote tier with backoff until its value
    /// lands, or its lease ends (then take it), or the lease TTL passed.
    pub(crate) async fn await_other_process<T: Cacheable>(
        &self,
        key: &CacheKey,
        opts: &Options,
    ) -> LeaseWait<T> {
        self.inner.recorder.record(Event::LeaseWait);
        let deadline = Instant::now() + opts.lease_ttl_value();
        let mut pause = Duration::from_millis(5);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(LEASE_POLL_MAX);
            match self.read_remote::<T>(key, opts, self.ticket()).await {
                RemoteRead::Found(found, _) => {
                    self.inner.recorder.record(Event::Served(TierName::Remote));
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
        if let Some(remote) = self.remote() {
            remote.release_lease(key, token).await;
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
