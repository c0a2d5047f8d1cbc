//! Key tracking ([`Invalidation::Tracking`](crate::Invalidation::Tracking)): Redis tells
//! this node about every change to a key under the tracking prefix, whoever made it.
//!
//! # Why RESP3 pushes on a dedicated connection
//!
//! A connection of its own per tracked server says `HELLO 3` and
//! `CLIENT TRACKING ON BCAST PREFIX <prefix>`; Redis then pushes `invalidate` messages (a list
//! of keys, or null after `FLUSHALL`/`FLUSHDB`) on that same connection. The alternative,
//! RESP2 with `REDIRECT` to a connection subscribed to `__redis__:invalidate`, needs two
//! connections per server and the client id of the subscribed one, which the client
//! library's pub/sub type does not expose; RESP3 needs one, and a lost connection is one
//! signal (the library's `Disconnection` push) rather than two to correlate. `BCAST` rather
//! than default tracking: the node does not read through this connection, so only
//! broadcasting by prefix can tell it about keys it cached from the shared connection.
//!
//! # Own writes
//!
//! `NOLOOP` only hides changes made *on the tracking connection*, and this node writes on its
//! shared connection, so its own writes (fills, `set`s, even a fill's lease) come back as
//! invalidations and drop the copy it has just stored. That is accepted, not filtered: the
//! next read is a Redis hit that refills the local tier. Filtering by "this node wrote it
//! last" is unsound, because Redis merges the changes of one event-loop turn into one message
//! per key, so an outside write landing next to ours would be swallowed with it.
//!
//! # Gaps
//!
//! Tracking state lives on the connection: after a drop nothing is tracked until it is
//! re-enabled. So, as the backplane does: each time tracking is enabled again after the
//! first time, listeners receive [`RemoteEvent::Clear`]; while it is down the trust watchdog
//! ([`crate::trust`], bound `backplane_trust`) clears every period. On a Cluster one
//! connection goes to every primary; if any is lost, or `CLUSTER NODES` (checked at each
//! ping) names other primaries, all are reopened and the local tier cleared once: a moved
//! slot's new owner tracked nothing for this node until then.

mod link;

use std::sync::Arc;

use cache_core::{RemoteEvent, RemoteListener};
use redis::{PushInfo, PushKind, Value};
use tokio::sync::{oneshot, watch};

use crate::client::Client;
use crate::health::{RedisStats, layer_counters};
use crate::listeners::Listeners;
use crate::reconnect;
use crate::trust::{self, Trust};

layer_counters! {
    /// What key tracking heard and did.
    TrackingCounters {
        tracking_invalidations,
        tracking_flushes,
        tracking_subscriptions,
        tracking_untrusted_clears,
    }
}

/// The key tracking of one tier: a task holding the tracking connections, handing what they
/// hear to the listeners. Its tasks stop when it is dropped.
pub(crate) struct Tracking {
    client: Arc<Client>,
    prefix: String,
    listeners: Listeners,
    /// Whether every tracking connection is up; the local tiers are trusted only so long
    /// without them.
    trust: Trust,
    counters: TrackingCounters,
    /// Dropped with the tracking; its receivers stop the tasks.
    _shutdown: watch::Sender<()>,
}

impl Tracking {
    /// Starts the tracking task and its watchdog. The receiver completes once tracking is
    /// first enabled (or is dropped if the first attempt failed).
    pub(crate) fn start(client: Arc<Client>) -> (Arc<Tracking>, oneshot::Receiver<()>) {
        let config = client.config();
        let (shutdown, stopped) = watch::channel(());
        let tracking = Arc::new(Tracking {
            prefix: config.tracking_prefix.clone(),
            trust: Trust::new(config.backplane_trust),
            listeners: Listeners::default(),
            counters: TrackingCounters::default(),
            _shutdown: shutdown,
            client,
        });
        let enabled = reconnect::spawn(&tracking, stopped.clone());
        trust::watchdog(&tracking, |t| &t.trust, Tracking::untrusted, stopped);
        (tracking, enabled)
    }

    /// Adds a listener for the changes Redis reports.
    pub(crate) fn subscribe(&self, listener: RemoteListener) {
        self.listeners.add(listener);
    }

    /// Whether tracking is enabled on every tracked server.
    pub(crate) fn is_connected(&self) -> bool {
        self.trust.is_connected()
    }

    /// Fills in the counters this layer keeps.
    pub(crate) fn stats(&self, stats: &mut RedisStats) {
        self.counters.fill(stats);
    }

    /// Hands an `invalidate` push to the listeners; `false` when the push says the
    /// connection is gone.
    fn on_push(&self, push: PushInfo) -> bool {
        match push.kind {
            PushKind::Invalidate => {
                match push.data.first() {
                    Some(Value::Array(keys)) => {
                        for key in keys {
                            if let Some(key) = key_text(key) {
                                TrackingCounters::bump(&self.counters.tracking_invalidations);
                                self.deliver(RemoteEvent::Invalidate(key));
                            }
                        }
                    }
                    // Null: the database was flushed (FLUSHALL, FLUSHDB).
                    _ => {
                        TrackingCounters::bump(&self.counters.tracking_flushes);
                        self.deliver(RemoteEvent::Clear);
                    }
                }
                true
            }
            PushKind::Disconnection => false,
            _ => true,
        }
    }

    /// Tracking was enabled again after a gap: changes made meanwhile were not reported.
    fn resubscribed(&self) {
        tracing::info!("key tracking enabled again; clearing local tiers");
        self.deliver(RemoteEvent::Clear);
    }

    /// Tracking has been down for the trust period: the local tiers are dropped.
    fn untrusted(&self) {
        TrackingCounters::bump(&self.counters.tracking_untrusted_clears);
        tracing::warn!("key tracking down: clearing local tiers");
        self.deliver(RemoteEvent::Clear);
    }

    fn deliver(&self, event: RemoteEvent) {
        self.listeners.deliver(&event);
    }
}

/// A key of an `invalidate` push as text; keys that are not UTF-8 are not this cache's.
fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(text) => Some(text.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_as_text_and_other_values_ignored() {
        assert_eq!(
            key_text(&Value::BulkString(b"app:k".to_vec())),
            Some("app:k".to_string())
        );
        assert_eq!(key_text(&Value::BulkString(vec![0xff])), None);
        assert_eq!(key_text(&Value::Int(1)), None);
    }
}
