//! The invalidation backplane: `PUBLISH` on one channel, one subscriber task per tier.
//!
//! # Frame
//!
//! A frame is UTF-8 text `1|<kind>|<origin>|<payload>`: version `1`; kind `K` (drop the key in
//! `payload`), `T` (drop entries tagged `payload`), `C` (drop everything, empty payload) or
//! `F` (a flag hash changed, see [`flags`](crate::flags)); `origin` is the sending tier's
//! random node id, so a node ignores its own frames. The payload is everything after the
//! third `|` and may itself contain `|`. Frames that do not parse are ignored.
//!
//! ```
//! use cache_core::RemoteEvent;
//! use cache_redis::backplane::{decode, encode};
//! let frame = encode(&RemoteEvent::Invalidate("app:user/7".into()), "n1");
//! assert_eq!(frame, "1|K|n1|app:user/7");
//! assert_eq!(decode(frame.as_bytes()), Some(("n1".to_string(), RemoteEvent::Invalidate("app:user/7".into()))));
//! ```
//!
//! # Subscriber
//!
//! A dedicated pub/sub connection (on a Cluster: to the first seed node that answers, since a
//! `PUBLISH` reaches every node). It pings every `backplane_trust / 2` (at most every 5 s) to
//! notice silent disconnects, and reconnects with a short backoff (50 ms doubling to 500 ms),
//! moving to the next seed node on a Cluster. Each time it subscribes again after the first
//! time, listeners receive [`RemoteEvent::Clear`]: frames may have been missed meanwhile.
//! While it is down, a watchdog delivers `Clear` every `backplane_trust` (default 2 s), so a
//! node never serves its local entries longer than that without hearing invalidations.

mod frame;
mod subscriber;

pub(crate) use self::frame::Wire;
pub use self::frame::{decode, encode};

use std::sync::Arc;

use cache_core::{RemoteEvent, RemoteListener};
use parking_lot::RwLock;
use tokio::sync::{mpsc, oneshot, watch};

use self::frame::{Frame, encode_flag_change};
use crate::client::{Client, Failure};
use crate::health::{RedisStats, layer_counters};
use crate::listeners::Listeners;
use crate::reconnect;
use crate::trust::{self, Trust};

layer_counters! {
    /// What the backplane heard and did.
    BackplaneCounters {
        events_received,
        subscriptions,
        untrusted_clears,
    }
}

/// The backplane of one tier: publishes its invalidations, and hands what other nodes
/// publish to its listeners. Its subscriber and watchdog tasks stop when it is dropped.
pub(crate) struct Backplane {
    client: Arc<Client>,
    channel: String,
    /// This tier's id in frames: its own cache frames come back and are ignored.
    node_id: String,
    listeners: Listeners,
    /// Flag sources waiting to hear that a flag hash changed (see [`flags`](crate::flags)).
    flag_watchers: RwLock<Vec<mpsc::Sender<()>>>,
    /// Whether the subscription is up; the local tiers are trusted only so long without it.
    trust: Trust,
    counters: BackplaneCounters,
    /// Dropped with the backplane; its receivers stop the tasks.
    _shutdown: watch::Sender<()>,
}

impl Backplane {
    /// Starts the subscriber and the watchdog. The receiver completes once the first
    /// subscription is active (or is dropped if the first attempt failed).
    pub(crate) fn start(
        client: Arc<Client>,
        node_id: String,
    ) -> (Arc<Backplane>, oneshot::Receiver<()>) {
        let config = client.config();
        let (shutdown, stopped) = watch::channel(());
        let backplane = Arc::new(Backplane {
            channel: config.channel.clone(),
            node_id,
            listeners: Listeners::default(),
            flag_watchers: RwLock::new(Vec::new()),
            trust: Trust::new(config.backplane_trust),
            counters: BackplaneCounters::default(),
            _shutdown: shutdown,
            client,
        });
        let subscribed = reconnect::spawn(&backplane, stopped.clone());
        trust::watchdog(&backplane, |b| &b.trust, Backplane::untrusted, stopped);
        (backplane, subscribed)
    }

    /// This tier's id on the backplane.
    pub(crate) fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Announces `event` to every other node.
    pub(crate) async fn publish(&self, event: &RemoteEvent) -> Result<(), Failure> {
        let frame = encode(event, &self.node_id);
        self.client.publish(&self.channel, &frame).await
    }

    /// Announces that the flag hash `hash` changed, to every node (this one included).
    pub(crate) async fn publish_flag_change(&self, hash: &str) -> Result<(), Failure> {
        let frame = encode_flag_change(&self.node_id, hash);
        self.client.publish(&self.channel, &frame).await
    }

    /// Adds a listener for the events other nodes publish.
    pub(crate) fn subscribe(&self, listener: RemoteListener) {
        self.listeners.add(listener);
    }

    /// A nudge each time a flag-change frame arrives or the subscription comes back (frames
    /// may have been missed). A full channel already means "re-read soon".
    pub(crate) fn watch_flag_changes(&self) -> mpsc::Receiver<()> {
        let (nudge, nudged) = mpsc::channel(1);
        self.flag_watchers.write().push(nudge);
        nudged
    }

    /// Whether the subscription is up.
    pub(crate) fn is_connected(&self) -> bool {
        self.trust.is_connected()
    }

    /// Fills in the counters this layer keeps.
    pub(crate) fn stats(&self, stats: &mut RedisStats) {
        self.counters.fill(stats);
    }

    /// Hands a received frame to the listeners unless this node sent it.
    fn on_frame(&self, bytes: &[u8]) {
        match Frame::parse(bytes) {
            Some(Frame::FlagChange) => self.nudge_flag_watchers(),
            Some(Frame::Event { origin, .. }) if origin == self.node_id => {}
            Some(Frame::Event { event, .. }) => {
                BackplaneCounters::bump(&self.counters.events_received);
                self.deliver(event);
            }
            None => tracing::debug!("ignoring a backplane frame that does not parse"),
        }
    }

    fn nudge_flag_watchers(&self) {
        self.flag_watchers.write().retain(|nudge| {
            !matches!(
                nudge.try_send(()),
                Err(mpsc::error::TrySendError::Closed(_))
            )
        });
    }

    fn deliver(&self, event: RemoteEvent) {
        self.listeners.deliver(&event);
    }

    /// The subscription has been down for the trust period: frames published meanwhile never
    /// reached this node, so its local tiers are dropped.
    fn untrusted(&self) {
        BackplaneCounters::bump(&self.counters.untrusted_clears);
        tracing::warn!("backplane down: clearing local tiers");
        self.deliver(RemoteEvent::Clear);
    }
}
