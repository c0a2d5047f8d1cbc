//! The background flusher.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::WriteBack;
use super::batch::Sink;

/// A running flusher ([`WriteBack::spawn_flusher`]). Dropping it aborts the task.
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn run(likes: cache_writeback::WriteBack, db: Arc<dyn cache_writeback::Sink>) {
/// let flusher = likes.spawn_flusher(std::time::Duration::from_secs(30), db);
/// flusher.stop().await; // finishes the batch in hand, then ends
/// # }
/// ```
#[must_use = "dropping the handle stops the flusher"]
#[derive(Debug)]
pub struct FlusherHandle {
    task: Option<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl FlusherHandle {
    /// Asks the flusher to end after the batch in hand (delivered and settled) and waits.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Kills the task at once, as a crash would: a batch in hand stays claimed and is taken
    /// over by another flusher once its claim timeout has passed.
    pub fn abort(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for FlusherHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl WriteBack {
    /// Runs a flush pass every `interval` on the current Tokio runtime until the handle is
    /// stopped, aborted or dropped. Any number of flushers (in this or other processes) may
    /// run against the same write-back. A sink that panics counts as a failed delivery.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn spawn_flusher(&self, interval: Duration, sink: Arc<dyn Sink>) -> FlusherHandle {
        let config = &self.shared.config;
        if interval.saturating_mul(4) > config.pending_ttl {
            tracing::warn!(
                ?interval,
                pending_ttl = ?config.pending_ttl,
                "write-back flush interval is close to pending_ttl: changes may expire unflushed"
            );
        }
        let (stop, mut stopped) = watch::channel(false);
        let this = self.clone();
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = ticker.tick() => {}
                }
                this.pass(&*sink, Some(&stopped)).await;
                if *stopped.borrow() {
                    break;
                }
            }
        });
        FlusherHandle {
            task: Some(task),
            stop,
        }
    }
}
