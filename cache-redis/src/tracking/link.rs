//! Key tracking as a [`Source`] of the reconnect loop: finds the servers to track (the one
//! server, or every Cluster primary), opens a RESP3 connection to each with
//! `CLIENT TRACKING ON BCAST PREFIX`, listens to their pushes, pings them, watches the
//! Cluster's primaries; any loss ends the round.

use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, IntoConnectionInfo, ProtocolVersion, PushInfo, RedisResult};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::watch;

use super::{Tracking, TrackingCounters};
use crate::client::{Client, RedisUrl};
use crate::reconnect::{Ended, Opening, Source};
use crate::trust::Trust;

/// The name tracking connections carry in `CLIENT LIST`, so an operator can tell them apart.
pub(crate) const CLIENT_NAME: &str = "cache-tracking";

/// The tracking connections of one round; dropping them ends the round.
pub(crate) struct Links {
    conns: Vec<MultiplexedConnection>,
    /// The tracked primaries (Cluster; empty for a single server), sorted.
    primaries: Vec<String>,
    /// Where pushes from `conns` arrive. A fresh channel per round: a late `Disconnection`
    /// of the last round's connections cannot end this one.
    pushes: UnboundedReceiver<PushInfo>,
}

impl Source for Tracking {
    type Link = Links;
    const NAME: &'static str = "key tracking";

    fn client(&self) -> &Client {
        &self.client
    }

    fn trust(&self) -> &Trust {
        &self.trust
    }

    fn open(&self, attempt: usize) -> Opening<Links> {
        let (client, prefix) = (Arc::clone(&self.client), self.prefix.clone());
        Box::pin(async move { open(&client, &prefix, attempt).await })
    }

    fn up(&self, again: bool) {
        TrackingCounters::bump(&self.counters.tracking_subscriptions);
        if again {
            self.resubscribed();
        }
    }

    async fn listen(
        links: Links,
        weak: &Weak<Tracking>,
        shutdown: &mut watch::Receiver<()>,
    ) -> Ended {
        listen(links, weak, shutdown).await
    }
}

/// Opens the tracking connections of one round, starting discovery at seed `attempt`.
async fn open(client: &Client, prefix: &str, attempt: usize) -> RedisResult<Links> {
    let config = client.config();
    let seed = &config.urls[attempt % config.urls.len()];
    let (targets, primaries) = if config.cluster {
        let mut conn = redis::Client::open(seed.expose())?
            .get_multiplexed_async_connection()
            .await?;
        let primaries = cluster_primaries(&mut conn).await?;
        let targets = primaries
            .iter()
            .map(|address| node_url(seed, address))
            .collect::<RedisResult<Vec<_>>>()?;
        (targets, primaries)
    } else {
        (vec![seed.clone()], Vec::new())
    };
    let (pushes_in, pushes) = unbounded_channel();
    let mut conns = Vec::with_capacity(targets.len());
    for target in &targets {
        conns.push(track(target, prefix, config.connect_timeout, pushes_in.clone()).await?);
    }
    Ok(Links {
        conns,
        primaries,
        pushes,
    })
}

/// One RESP3 connection to `url` that reports changes under `prefix` as pushes.
async fn track(
    url: &RedisUrl,
    prefix: &str,
    connect_timeout: Duration,
    pushes: UnboundedSender<PushInfo>,
) -> RedisResult<MultiplexedConnection> {
    let info = url.expose().into_connection_info()?;
    let resp3 = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let client = redis::Client::open(info.set_redis_settings(resp3))?;
    let settings = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(None)
        .set_push_sender(pushes);
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&settings)
        .await?;
    let mut pipe = redis::pipe();
    pipe.cmd("CLIENT").arg("SETNAME").arg(CLIENT_NAME).ignore();
    pipe.cmd("CLIENT")
        .arg("TRACKING")
        .arg("ON")
        .arg("BCAST")
        .arg("PREFIX")
        .arg(prefix)
        .ignore();
    pipe.exec_async(&mut conn).await?;
    Ok(conn)
}

/// Waits for pushes until the round ends: a connection lost or silent, the primaries
/// changed, or the tracking dropped.
async fn listen(
    mut links: Links,
    weak: &Weak<Tracking>,
    shutdown: &mut watch::Receiver<()>,
) -> Ended {
    let Some((every, limit)) = weak
        .upgrade()
        .map(|t| (t.trust.ping_every(), t.client.config().connect_timeout))
    else {
        return Ended::Stop;
    };
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        tokio::select! {
            push = links.pushes.recv() => match (push, weak.upgrade()) {
                (_, None) => return Ended::Stop,
                (Some(push), Some(tracking)) => {
                    if !tracking.on_push(push) {
                        return Ended::Lost;
                    }
                }
                (None, Some(_)) => return Ended::Lost,
            },
            _ = ticker.tick() => {
                let checked = tokio::time::timeout(limit, links.check()).await;
                if !matches!(checked, Ok(Ok(true))) {
                    return Ended::Lost;
                }
            }
            _ = shutdown.changed() => return Ended::Stop,
        }
    }
}

impl Links {
    /// Pings every connection; on a Cluster, also whether the primaries are still the ones
    /// tracked.
    async fn check(&self) -> RedisResult<bool> {
        for conn in &self.conns {
            redis::cmd("PING")
                .query_async::<redis::Value>(&mut conn.clone())
                .await?;
        }
        match self.conns.first() {
            Some(conn) if !self.primaries.is_empty() => {
                Ok(cluster_primaries(&mut conn.clone()).await? == self.primaries)
            }
            _ => Ok(true),
        }
    }
}

/// The `host:port` of every primary `CLUSTER NODES` lists and does not mark failed, sorted.
async fn cluster_primaries(conn: &mut MultiplexedConnection) -> RedisResult<Vec<String>> {
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query_async(conn).await?;
    Ok(parse_primaries(&nodes))
}

fn parse_primaries(nodes: &str) -> Vec<String> {
    let mut primaries: Vec<String> = nodes
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let address = fields.nth(1)?;
            let flags = fields.next()?;
            let flags: Vec<&str> = flags.split(',').collect();
            let primary = flags.contains(&"master") && !flags.contains(&"fail");
            // `ip:port@cport[,hostname]`
            primary.then(|| address.split('@').next().unwrap_or(address).to_string())
        })
        .collect();
    primaries.sort();
    primaries
}

/// The seed's URL pointed at `address` (`host:port`).
fn node_url(seed: &RedisUrl, address: &str) -> RedisResult<RedisUrl> {
    address
        .rsplit_once(':')
        .and_then(|(host, port)| seed.at(host, port.parse().ok()?))
        .ok_or_else(|| {
            redis::RedisError::from((
                redis::ErrorKind::Client,
                "CLUSTER NODES names an address that is not host:port",
                address.to_string(),
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primaries_are_the_masters_not_marked_failed() {
        let nodes = "\
a1 127.0.0.1:7002@17002 master - 0 1 3 connected 10923-16383
b2 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
c3 127.0.0.1:7003@17003 slave b2 0 1 1 connected
d4 127.0.0.1:7001@17001,node-b master,fail - 0 1 2 connected 5461-10922
";
        assert_eq!(parse_primaries(nodes), ["127.0.0.1:7000", "127.0.0.1:7002"]);
    }
}
