//! The subscriber: the backplane as a [`Source`] of the reconnect loop — a pub/sub connection
//! to a seed node, subscribed to the channel and pinged; after a gap the local tiers are
//! cleared (the watchdog that clears them while it stays down is [`crate::trust`]).

use std::sync::{Arc, Weak};

use cache_core::RemoteEvent;
use futures_util::StreamExt;
use redis::aio::PubSub;
use tokio::sync::watch;

use super::{Backplane, BackplaneCounters};
use crate::client::Client;
use crate::reconnect::{Ended, Opening, Source};
use crate::trust::Trust;

impl Source for Backplane {
    type Link = PubSub;
    const NAME: &'static str = "backplane";

    fn client(&self) -> &Client {
        &self.client
    }

    fn trust(&self) -> &Trust {
        &self.trust
    }

    fn open(&self, attempt: usize) -> Opening<PubSub> {
        let (client, channel) = (Arc::clone(&self.client), self.channel.clone());
        Box::pin(async move {
            // On a Cluster each attempt moves to the next seed node.
            let mut pubsub = client.pubsub(attempt).await?;
            pubsub.subscribe(&channel).await?;
            Ok(pubsub)
        })
    }

    fn up(&self, again: bool) {
        BackplaneCounters::bump(&self.counters.subscriptions);
        if again {
            tracing::info!("backplane subscribed again; clearing local tiers");
            self.deliver(RemoteEvent::Clear);
            self.nudge_flag_watchers();
        }
    }

    async fn listen(
        pubsub: PubSub,
        weak: &Weak<Backplane>,
        shutdown: &mut watch::Receiver<()>,
    ) -> Ended {
        let Some((every, limit)) = weak
            .upgrade()
            .map(|b| (b.trust.ping_every(), b.client.config().connect_timeout))
        else {
            return Ended::Stop;
        };
        let (mut sink, mut stream) = pubsub.split();
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
}
