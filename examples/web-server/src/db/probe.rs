//! The database health probe behind `/healthz`: at most one ping per interval, shared by every
//! caller, so a burst of health checks (load balancers, dashboards) never becomes a burst of
//! queries on a database that may already be struggling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::AnyPool;
use tokio::sync::Mutex;

/// How long one probe result is reused.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// A ping that takes longer than this counts as "down": `/healthz` must answer quickly.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// The last probe result and how many pings were sent.
#[derive(Debug)]
pub(crate) struct Probe {
    /// When the last ping finished and whether it succeeded. Held across the ping so concurrent
    /// callers wait for the one in flight instead of sending their own.
    last: Mutex<Option<(Instant, bool)>>,
    pings: AtomicU64,
}

impl Probe {
    pub(crate) fn new() -> Probe {
        Probe {
            last: Mutex::new(None),
            pings: AtomicU64::new(0),
        }
    }

    /// Whether the database answered, from a ping at most [`PROBE_EVERY`] old.
    pub(crate) async fn is_up(&self, pool: &AnyPool) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at, up)) = *last
            && at.elapsed() < PROBE_EVERY
        {
            return up;
        }
        self.pings.fetch_add(1, Ordering::Relaxed);
        let ping = sqlx::query("SELECT 1").execute(pool);
        let up = matches!(tokio::time::timeout(PING_TIMEOUT, ping).await, Ok(Ok(_)));
        *last = Some((Instant::now(), up));
        up
    }

    pub(crate) fn pings(&self) -> u64 {
        self.pings.load(Ordering::Relaxed)
    }
}
