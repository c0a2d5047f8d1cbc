//! The reconnect loop of a source of invalidations (the backplane subscriber, key tracking):
//! open its connections within the connect timeout, mark it up, tell it whether this is a
//! return after a gap, listen until the round ends, mark it down, back off, start over.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use redis::RedisResult;
use tokio::sync::{oneshot, watch};

use crate::client::{Client, backoff};
use crate::trust::Trust;

/// How a round of listening ended.
pub(crate) enum Ended {
    /// The source was dropped: the task stops.
    Stop,
    /// A connection was lost or went silent: reconnect.
    Lost,
}

/// The connections of one round being opened; owns what it needs, so the source can be
/// dropped meanwhile.
pub(crate) type Opening<L> = Pin<Box<dyn Future<Output = RedisResult<L>> + Send>>;

/// A source of invalidations run by [`spawn`].
pub(crate) trait Source: Send + Sync + 'static {
    /// The connections of one round.
    type Link: Send + 'static;
    /// What the logs call this source.
    const NAME: &'static str;

    /// The client whose settings (connect timeout) and scrubbing apply.
    fn client(&self) -> &Client;
    /// Whether the source is up, for the trust watchdog.
    fn trust(&self) -> &Trust;
    /// Opens a round's connections, starting at seed node `attempt` (modulo their number).
    fn open(&self, attempt: usize) -> Opening<Self::Link>;
    /// The round's connections are open; `again` unless this is the very first success, in
    /// which case events may have been missed and the local tiers must be cleared.
    fn up(&self, again: bool);
    /// Listens until the round ends.
    fn listen(
        link: Self::Link,
        weak: &Weak<Self>,
        shutdown: &mut watch::Receiver<()>,
    ) -> impl Future<Output = Ended> + Send;
}

/// Starts the loop of `source`; the receiver completes once it is first up (or is dropped if
/// the first attempt failed). It holds `source` weakly and stops when it is dropped.
pub(crate) fn spawn<S: Source>(
    source: &Arc<S>,
    shutdown: watch::Receiver<()>,
) -> oneshot::Receiver<()> {
    let (ready, up) = oneshot::channel();
    tokio::spawn(run(Arc::downgrade(source), shutdown, ready));
    up
}

async fn run<S: Source>(
    weak: Weak<S>,
    mut shutdown: watch::Receiver<()>,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let (mut first, mut attempt, mut pause) = (true, 0_usize, Duration::ZERO);
    loop {
        let Some((limit, opening)) = weak
            .upgrade()
            .map(|s| (s.client().config().connect_timeout, s.open(attempt)))
        else {
            return;
        };
        match tokio::time::timeout(limit, opening).await {
            Ok(Ok(link)) => {
                pause = Duration::ZERO;
                let Some(source) = weak.upgrade() else {
                    return;
                };
                source.trust().set_connected(true);
                source.up(!first);
                drop(source);
                first = false;
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
                if let Ended::Stop = S::listen(link, &weak, &mut shutdown).await {
                    return;
                }
                let Some(source) = weak.upgrade() else {
                    return;
                };
                source.trust().set_connected(false);
                tracing::warn!(source = S::NAME, "connection lost; reconnecting");
            }
            Ok(Err(error)) => {
                if let Some(source) = weak.upgrade() {
                    let scrubbed = source.client().scrub(error.to_string());
                    tracing::debug!(
                        source = S::NAME,
                        error = scrubbed.as_str(),
                        "connect failed"
                    );
                }
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
