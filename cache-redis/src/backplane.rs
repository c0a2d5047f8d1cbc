//! The invalidation backplane: `PUBLISH` on one channel, one subscriber task per tier.
//!
//! # Frame
//!
//! A frame is UTF-8 text `1|<kind>|<origin>|<payload>`: version `1`; kind `K` (drop the key in
//! `payload`), `T` (drop entries tagged `payload`) or `C` (drop everything, empty payload);
//! `origin` is the sending tier's random node id, so a node ignores its own frames. The payload
//! is everything after the third `|` and may itself contain `|`. Frames that do not parse are
//! ignored.
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

use std::sync::{Arc, Weak};
use std::time::Duration;

use cache_core::RemoteEvent;
use futures_util::StreamExt;
use redis::Client;
use tokio::sync::{oneshot, watch};

use crate::conn::backoff;
use crate::health::Counters;
use crate::tier::Inner;

/// How often an idle subscription is checked with `PING`, at most.
const PING_EVERY: Duration = Duration::from_secs(5);

/// The ping period: at most [`PING_EVERY`], and half the trust period, so a silent loss is
/// noticed in time for the watchdog.
fn ping_every(trust: Duration) -> Duration {
    PING_EVERY.min(trust / 2)
}

/// While the subscription is down, delivers [`RemoteEvent::Clear`] once it has been down for
/// `backplane_trust`, and again every such period until it is back: invalidations published
/// meanwhile never reach this node, so its local tier is trusted no longer than that.
pub(crate) fn watchdog(inner: &Arc<Inner>, mut shutdown: watch::Receiver<()>) {
    let weak = Arc::downgrade(inner);
    let trust = inner.config.backplane_trust;
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval((trust / 4).max(Duration::from_millis(25)));
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.changed() => return,
            }
            let Some(inner) = weak.upgrade() else { return };
            let due = {
                let mut since = inner.backplane_down_since.lock();
                match *since {
                    Some(down) if down.elapsed() >= trust => {
                        // The next period starts now.
                        *since = Some(std::time::Instant::now());
                        true
                    }
                    _ => false,
                }
            };
            if due {
                Counters::bump(&inner.counters.untrusted_clears);
                tracing::warn!(?trust, "backplane down: clearing local tiers");
                inner.deliver(RemoteEvent::Clear);
            }
        }
    });
}

/// The frame announcing `event` from node `origin`.
pub fn encode(event: &RemoteEvent, origin: &str) -> String {
    let (kind, payload) = match event {
        RemoteEvent::Invalidate(key) => ('K', key.as_str()),
        RemoteEvent::InvalidateTag(tag) => ('T', tag.as_str()),
        RemoteEvent::Clear => ('C', ""),
    };
    format!("1|{kind}|{origin}|{payload}")
}

/// The origin and event of a frame, or `None` if it is not a version-1 frame.
pub fn decode(frame: &[u8]) -> Option<(String, RemoteEvent)> {
    let text = std::str::from_utf8(frame).ok()?;
    let mut parts = text.splitn(4, '|');
    let (version, kind, origin, payload) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "1" || origin.is_empty() {
        return None;
    }
    let event = match kind {
        "K" => RemoteEvent::Invalidate(payload.to_string()),
        "T" => RemoteEvent::InvalidateTag(payload.to_string()),
        "C" => RemoteEvent::Clear,
        _ => return None,
    };
    Some((origin.to_string(), event))
}

/// A hashable copy of a [`RemoteEvent`], for de-duplicating queued announcements.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Wire {
    Invalidate(String),
    InvalidateTag(String),
    Clear,
}

impl From<&RemoteEvent> for Wire {
    fn from(event: &RemoteEvent) -> Wire {
        match event {
            RemoteEvent::Invalidate(k) => Wire::Invalidate(k.clone()),
            RemoteEvent::InvalidateTag(t) => Wire::InvalidateTag(t.clone()),
            RemoteEvent::Clear => Wire::Clear,
        }
    }
}

impl From<Wire> for RemoteEvent {
    fn from(wire: Wire) -> RemoteEvent {
        match wire {
            Wire::Invalidate(k) => RemoteEvent::Invalidate(k),
            Wire::InvalidateTag(t) => RemoteEvent::InvalidateTag(t),
            Wire::Clear => RemoteEvent::Clear,
        }
    }
}

impl Inner {
    /// Hands a received frame to the listeners unless this node sent it.
    fn on_frame(&self, frame: &[u8]) {
        if crate::flags::is_change_frame(frame) {
            self.nudge_flags();
            return;
        }
        match decode(frame) {
            Some((origin, _)) if origin == self.node_id => {}
            Some((_, event)) => {
                Counters::bump(&self.counters.events_received);
                self.deliver(event);
            }
            None => tracing::debug!("ignoring a backplane frame that does not parse"),
        }
    }

    /// Tells attached flag sources to re-read their hash.
    pub(crate) fn nudge_flags(&self) {
        for attached in self.attached_flags.read().iter() {
            attached.nudge();
        }
    }

    pub(crate) fn deliver(&self, event: RemoteEvent) {
        let listeners = self.listeners.read().clone();
        for listener in listeners {
            listener(event.clone());
        }
    }
}

enum Ended {
    Stop,
    Lost,
}

/// Starts the subscriber; the receiver completes once the first subscription is active (or is
/// dropped if the first attempt failed).
pub(crate) fn spawn(
    inner: &Arc<Inner>,
    clients: Vec<Client>,
    shutdown: watch::Receiver<()>,
) -> oneshot::Receiver<()> {
    let (ready, subscribed) = oneshot::channel();
    tokio::spawn(run(Arc::downgrade(inner), clients, shutdown, ready));
    subscribed
}

async fn run(
    weak: Weak<Inner>,
    clients: Vec<Client>,
    mut shutdown: watch::Receiver<()>,
    ready: oneshot::Sender<()>,
) {
    let Some((channel, limit)) = weak
        .upgrade()
        .map(|i| (i.config.channel.clone(), i.config.connect_timeout))
    else {
        return;
    };
    let mut ready = Some(ready);
    let (mut first, mut attempt, mut pause) = (true, 0_usize, Duration::ZERO);
    loop {
        let client = &clients[attempt % clients.len()];
        let subscribing = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(limit, subscribing).await {
            Ok(Ok(pubsub)) => {
                pause = Duration::ZERO;
                let Some(inner) = weak.upgrade() else { return };
                inner.set_backplane(true);
                Counters::bump(&inner.counters.subscriptions);
                if !first {
                    tracing::info!("backplane subscribed again; clearing local tiers");
                    inner.deliver(RemoteEvent::Clear);
                    inner.nudge_flags();
                }
                drop(inner);
                first = false;
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
                if let Ended::Stop = listen(pubsub, &weak, &mut shutdown, limit).await {
                    return;
                }
                let Some(inner) = weak.upgrade() else { return };
                inner.set_backplane(false);
                tracing::warn!("backplane subscription lost; reconnecting");
            }
            Ok(Err(error)) => {
                let scrubbed = weak.upgrade().map(|i| i.secrets.scrub(error.to_string()));
                tracing::debug!(error = scrubbed.as_deref(), "backplane subscribe failed");
                (first, ready, attempt) = (false, None, attempt + 1);
            }
            Err(_) => (first, ready, attempt) = (false, None, attempt + 1),
        }
        pause = backoff(pause);
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn listen(
    pubsub: redis::aio::PubSub,
    weak: &Weak<Inner>,
    shutdown: &mut watch::Receiver<()>,
    limit: Duration,
) -> Ended {
    let (mut sink, mut stream) = pubsub.split();
    let trust = weak
        .upgrade()
        .map_or(PING_EVERY, |i| i.config.backplane_trust);
    let mut ticker = tokio::time::interval(ping_every(trust));
    ticker.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(message) => match weak.upgrade() {
                    Some(inner) => inner.on_frame(message.get_payload_bytes()),
                    None => return Ended::Stop,
                },
                None => return Ended::Lost,
            },
            _ = ticker.tick() => {
                let ping = tokio::time::timeout(limit, sink.ping::<redis::Value>()).await;
                if !matches!(ping, Ok(Ok(_))) {
                    return Ended::Lost;
                }
            }
            _ = shutdown.changed() => return Ended::Stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_garbage_is_ignored() {
        for event in [
            RemoteEvent::Invalidate("ns:a|b".into()),
            RemoteEvent::InvalidateTag("chain:7".into()),
            RemoteEvent::Clear,
        ] {
            let frame = encode(&event, "abc");
            assert_eq!(decode(frame.as_bytes()), Some(("abc".into(), event)));
        }
        for bad in ["", "1|K|", "2|K|n|k", "1|X|n|k", "1|K||k"] {
            assert_eq!(decode(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(decode(&[0xff, 0xfe]), None);
    }
}
