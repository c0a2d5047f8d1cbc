//! The subscriber task: a pub/sub connection that pings, reconnects and clears the local tiers
//! after a gap (the watchdog that clears them while it stays down is [`crate::trust`]).

use std::sync::{Arc, Weak};
use std::time::Duration;

use cache_core::RemoteEvent;
use futures_util::StreamExt;
use tokio::sync::{oneshot, watch};

use super::{Backplane, BackplaneCounters};
use crate::client::backoff;

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
                backplane.trust.set_connected(true);
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
                backplane.trust.set_connected(false);
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
    let Some(every) = weak.upgrade().map(|b| b.trust.ping_every()) else {
        return Ended::Stop;
    };
    let mut ticker = tokio::time::interval(every);
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
