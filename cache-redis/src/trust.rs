//! How long a node trusts its local tier while a source of invalidations (the backplane
//! subscription, the key-tracking connections) is down: whatever changed meanwhile never
//! reaches the node, so after `backplane_trust` the local tier is dropped, and again every
//! such period until the source is back. The backplane and tracking each own one [`Trust`]
//! and start one [`watchdog`] over it.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::watch;

/// How often an idle connection is checked with `PING`, at most.
const PING_EVERY: Duration = Duration::from_secs(5);

/// Whether a source of invalidations is up, and since when it is down.
#[derive(Debug)]
pub(crate) struct Trust {
    period: Duration,
    /// Since when the source is down (`None` while it is up). It starts down: nothing is
    /// heard before the first subscription.
    down_since: Mutex<Option<Instant>>,
}

impl Trust {
    pub(crate) fn new(period: Duration) -> Trust {
        Trust {
            period,
            down_since: Mutex::new(Some(Instant::now())),
        }
    }

    /// The ping period of the source's connections: at most [`PING_EVERY`], and half the
    /// trust period, so a silent loss is noticed in time for the watchdog.
    pub(crate) fn ping_every(&self) -> Duration {
        PING_EVERY.min(self.period / 2)
    }

    /// Whether the source is up.
    pub(crate) fn is_connected(&self) -> bool {
        self.down_since.lock().is_none()
    }

    /// Records whether the source is up; the watchdog measures from the moment it went down.
    pub(crate) fn set_connected(&self, up: bool) {
        let mut since = self.down_since.lock();
        match (up, *since) {
            (true, _) => *since = None,
            (false, None) => *since = Some(Instant::now()),
            (false, Some(_)) => {}
        }
    }

    /// Whether the source has been down for the trust period; if so the next period starts now.
    fn expired(&self) -> bool {
        let mut since = self.down_since.lock();
        match *since {
            Some(down) if down.elapsed() >= self.period => {
                *since = Some(Instant::now());
                true
            }
            _ => false,
        }
    }
}

/// While `owner`'s source is down, calls `untrusted(owner)` once it has been down for the
/// trust period, and again every such period until it is back. Holds `owner` weakly and stops
/// when it is dropped or `shutdown` fires.
pub(crate) fn watchdog<T: Send + Sync + 'static>(
    owner: &Arc<T>,
    trust: fn(&T) -> &Trust,
    untrusted: fn(&T),
    mut shutdown: watch::Receiver<()>,
) {
    let weak: Weak<T> = Arc::downgrade(owner);
    let period = trust(owner).period;
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval((period / 4).max(Duration::from_millis(25)));
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.changed() => return,
            }
            let Some(owner) = weak.upgrade() else {
                return;
            };
            if trust(&owner).expired() {
                untrusted(&owner);
            }
        }
    });
}
