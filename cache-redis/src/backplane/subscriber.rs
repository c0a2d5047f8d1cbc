//! The subscriber task (a pub/sub connection that pings, reconnects and clears the local tiers
//! after a gap) and the watchdog that clears them while the subscription stays down.

use std::sync::{Arc, Weak};
use std::time::Duration;

use cache_core::RemoteEvent;
use futures_util::StreamExt;
use tokio::sync::{oneshot, watch};

use super::{Backplane, BackplaneCounters};
use crate::client::backoff;

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
pub(super) fn watchdog(backplane: &Arc<Backplane>, mut shutdown: watch::Receiver<()>) {
    let weak = Arc::downgrade(backplane);
    let trust = backplane.trust;
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval((trust / 4).max(Duration::from_millis(25)));
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.changed() => return,
            }
            let Some(backplane) = weak.upgrade() else {
                return;
            };
            if backplane.trust_expired() {
                BackplaneCounters::bump(&backplane.counters.untrusted_clears);
                tracing::warn!(?trust, "backplane down: clearing local tiers");
                backplane.deliver(RemoteEvent::Clear);
            }
        }
    });
}

enum Ended {
    Stop,
    Lost,
}

/// Starts the subscriber; the receiver completes once the first subscription is active (or is
/// dropped if the first attempt failed).
pub(super) fn spawn(
    backplane: &Arc<Backplane>,
    shutdown: watch::Receiver<()>,
) -> oneshot::Receiver<()> {
    let (ready, subscribed) = oneshot::channel();
    tokio::spawn(run(Arc::downgrade(backplane), shutdown, ready));
    subscribed
}

async fn run(weak: Weak<Backplane>, mut shutdown: watch::Receiver<()>, ready: oneshot::Sender<()>) {
    let Some((channel, limit, seeds)) = weak.upgrade().map(|b| {
        let config = b.client.config();
        (b.channel.clone(), config.connect_timeout, config.urls.len())
    }) else {
        return;
    };
    let mut ready = Some(ready);
    let (mut first, mut attempt, mut pause) = (true, 0_usize, Duration::ZERO);
    loop {
        let Some(client) = weak.upgrade().map(|b| Arc::clone(&b.client)) else {
            return;
        };
        let subscribing = async {
            let mut pubsub = client.pubsub(attempt % seeds).await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match tokio::time::timeout(limit, subscribing).await {
            Ok(Ok(pubsub)) => {
                pause = Duration::ZERO;
                let Some(backplane) = weak.upgrade() else {
                    return;
                };
                backplane.set_connected(true);
                BackplaneCounters::bump(&backplane.counters.subscriptions);
                if !first {
                    tracing::info!("backplane subscribed again; clearing local tiers");
                    backplane.deliver(RemoteEvent::Clear);
                    backplane.nudge_flag_watchers();
                }
                drop(backplane);
                first = false;
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
                if let Ended::Stop = listen(pubsub, &weak, &mut shutdown, limit).await {
                    return;
                }
                let Some(backplane) = weak.upgrade() else {
                    return;
                };
                backplane.set_connected(false);
                tracing::warn!("backplane subscription lost; reconnecting");
            }
            Ok(Err(error)) => {
                let scrubbed = client.scrub(error.to_string());
                tracing::debug!(error = scrubbed.as_str(), "backplane subscribe failed");
                (first, ready, attempt) = (false, None, attempt + 1);
            }
            Err(_) => (first, ready, attempt) = (false, None, attempt + 1),
        }
        drop(client);
        pause = backoff(pause);
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn listen(
    pubsub: redis::aio::PubSub,
    weak: &Weak<Backplane>,
    shutdown: &mut watch::Receiver<()>,
    limit: Duration,
) -> Ended {
    let (mut sink, mut stream) = pubsub.split();
    let trust = weak.upgrade().map_or(PING_EVERY, |b| b.trust);
    let mut ticker = tokio::time::interval(ping_every(trust));
    ticker.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(message) => match weak.upgrade() {
                    Some(backplane) => backplane.on_frame(message.get_payload_bytes()),
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
