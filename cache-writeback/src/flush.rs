//! Flush passes: claim a batch, hand it to the sink, acknowledge or release it.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::watch;

use super::WriteBack;
use super::batch::{Batch, Changes, Sink};
use super::keys::random_id;
use super::report::{Backlog, FlushReport};
use super::scripts::{ACK, BACKLOG, CLAIM, RELEASE};
use crate::Error;
use crate::millis;

enum Claimed {
    None,
    Lost(String),
    Batch(Batch, String),
    /// Claimed, but not confirmed by the replicas (id, owner token).
    Unreplicated(String, String),
}

impl WriteBack {
    /// One flush pass over every shard: claims and delivers batches until nothing is
    /// claimable, a shard fails, or the sink refuses a batch (the pass then ends, so a sink
    /// that is down does not turn every pending change into a batch). Batches in backoff are
    /// left for a later pass. For tests and shutdown; [`spawn_flusher`](Self::spawn_flusher)
    /// runs passes on a timer.
    pub async fn flush_now(&self, sink: &dyn Sink) -> FlushReport {
        self.pass(sink, None).await
    }

    /// Flushes until nothing is pending or in flight, waiting out backoffs and the claim
    /// timeout of batches left by stopped flushers; [`Error::Timeout`] after `within`.
    pub async fn drain(&self, sink: &dyn Sink, within: Duration) -> Result<FlushReport, Error> {
        let started = Instant::now();
        let mut total = FlushReport::default();
        loop {
            total.add(self.pass(sink, None).await);
            if self.backlog().await.is_ok_and(|b| b.is_empty()) {
                return Ok(total);
            }
            if started.elapsed() >= within {
                return Err(Error::Timeout(within));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads the backlog of every shard from Redis (and refreshes the gauges).
    pub async fn backlog(&self) -> Result<Backlog, Error> {
        let mut total = Backlog::default();
        for (index, shard) in self.shared.shards.iter().enumerate() {
            let mut invocation = BACKLOG.prepare_invoke();
            invocation
                .key(&shard.dirty)
                .key(&shard.inflight)
                .arg(&shard.tag);
            let figures: Vec<u64> = self.run(&invocation).await?;
            let age = self.record_backlog(index, &figures);
            total.pending_entities += figures.first().copied().unwrap_or(0);
            total.inflight_batches += figures.get(1).copied().unwrap_or(0);
            total.oldest_pending_age = total.oldest_pending_age.max(age);
        }
        Ok(total)
    }

    /// A pass; stops between batches once `stop` says so.
    pub(crate) async fn pass(
        &self,
        sink: &dyn Sink,
        stop: Option<&watch::Receiver<bool>>,
    ) -> FlushReport {
        let mut report = FlushReport::default();
        let stopping = || stop.is_some_and(|s| *s.borrow());
        let shards = self.shared.shards.len();
        let first = self.shared.next_shard.fetch_add(1, Relaxed) as usize;
        'shards: for index in (0..shards).map(|i| (first + i) % shards) {
            for _ in 0..self.shared.config.max_batches_per_pass {
                if stopping() {
                    break 'shards;
                }
                match self.claim(index).await {
                    Ok(Claimed::None) => break,
                    Ok(Claimed::Lost(id)) => {
                        report.lost += 1;
                        self.shared.metrics.lost("expired");
                        tracing::error!(batch = %id, "write-back batch expired before it was flushed");
                    }
                    Ok(Claimed::Batch(batch, token)) => {
                        if !self.deliver(index, &batch, &token, sink, &mut report).await {
                            break 'shards;
                        }
                    }
                    Ok(Claimed::Unreplicated(id, token)) => {
                        report.unreplicated += 1;
                        let backoff = self.shared.config.retry_min;
                        self.release(index, &id, &token, backoff, &mut report).await;
                        break;
                    }
                    Err(error) => {
                        report.redis_errors += 1;
                        self.shared.metrics.failure("redis");
                        tracing::debug!(%error, shard = index, "write-back claim failed");
                        break;
                    }
                }
            }
        }
        report
    }

    async fn claim(&self, index: usize) -> Result<Claimed, Error> {
        let shard = &self.shared.shards[index];
        let config = &self.shared.config;
        let token = random_id();
        let mut invocation = CLAIM.prepare_invoke();
        invocation
            .key(&shard.dirty)
            .key(&shard.inflight)
            .key(&shard.state)
            .arg(&shard.tag)
            .arg(format!("{index}-{}", random_id()))
            .arg(&token)
            .arg(millis(config.claim_timeout))
            .arg(config.max_batch_entities)
            .arg(millis(config.pending_ttl))
            .arg(config.max_inflight)
            .arg(random_id());
        let replicas = self.replicas_to_wait(index).await?;
        let (reply, acked): (Vec<Vec<u8>>, usize) =
            self.run_replicated(&CLAIM, &invocation, replicas).await?;
        let text =
            |i: usize| String::from_utf8_lossy(reply.get(i).map_or(&[][..], |v| v)).into_owned();
        self.observe_epoch(index, &text(1));
        let figures: Vec<u64> = (3..7).map(|i| text(i).parse().unwrap_or(0)).collect();
        self.record_backlog(index, &figures);
        let (kind, id) = (text(0), text(7));
        let mut batch = Batch {
            id,
            attempt: 1,
            entities: BTreeMap::new(),
        };
        let claimed = matches!(kind.as_str(), "new" | "retry" | "reclaim");
        if claimed && !self.replicated(index, text(2).parse().unwrap_or(0), acked) {
            // Not on enough replicas: a failover now could bring back the live changes
            // without this batch, so delivering it could apply them twice. Put it back.
            return Ok(Claimed::Unreplicated(batch.id, token));
        }
        for pair in reply.get(8..).unwrap_or_default().chunks_exact(2) {
            let name = String::from_utf8_lossy(&pair[0]);
            if let Some(entity) = name.strip_prefix("e:") {
                batch
                    .entities
                    .insert(entity.to_string(), Changes::decode(&pair[1]));
            } else if name == "m:attempt" {
                batch.attempt = String::from_utf8_lossy(&pair[1]).parse().unwrap_or(1);
            }
        }
        match kind.as_str() {
            "new" => Ok(Claimed::Batch(batch, token)),
            "retry" | "reclaim" => {
                self.shared.metrics.retry(kind == "reclaim");
                Ok(Claimed::Batch(batch, token))
            }
            "lost" => Ok(Claimed::Lost(batch.id)),
            _ => Ok(Claimed::None),
        }
    }

    /// Hands `batch` to the sink and settles it; `false` if the sink refused it.
    async fn deliver(
        &self,
        index: usize,
        batch: &Batch,
        token: &str,
        sink: &dyn Sink,
        report: &mut FlushReport,
    ) -> bool {
        let shard = &self.shared.shards[index];
        let started = Instant::now();
        let outcome = AssertUnwindSafe(sink.write(batch)).catch_unwind().await;
        let error = match outcome {
            Ok(Ok(())) => {
                let mut invocation = ACK.prepare_invoke();
                invocation
                    .key(&shard.inflight)
                    .arg(&shard.tag)
                    .arg(&batch.id);
                match self.run::<i64>(&invocation).await {
                    Ok(_) => {
                        self.shared
                            .metrics
                            .flushed(batch.entities.len(), started.elapsed());
                        report.batches += 1;
                        report.entities += batch.entities.len() as u64;
                    }
                    Err(error) => {
                        // Delivered again after the claim timeout; the sink skips it by id.
                        report.redis_errors += 1;
                        self.shared.metrics.failure("redis");
                        tracing::debug!(%error, batch = %batch.id, "write-back ack failed");
                    }
                }
                return true;
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => "the sink panicked".to_string(),
        };
        report.failures += 1;
        self.shared.metrics.failure("sink");
        let backoff = self.backoff(batch.attempt);
        tracing::warn!(batch = %batch.id, attempt = batch.attempt, %error, ?backoff, "write-back sink failed");
        self.release(index, &batch.id, token, backoff, report).await;
        false
    }

    /// Puts batch `id` back, claimable again after `backoff`.
    async fn release(
        &self,
        index: usize,
        id: &str,
        token: &str,
        backoff: Duration,
        report: &mut FlushReport,
    ) {
        let shard = &self.shared.shards[index];
        let mut invocation = RELEASE.prepare_invoke();
        invocation
            .key(&shard.inflight)
            .arg(&shard.tag)
            .arg(id)
            .arg(token)
            .arg(millis(backoff));
        if let Err(error) = self.run::<i64>(&invocation).await {
            // Claimable again after the claim timeout instead.
            report.redis_errors += 1;
            self.shared.metrics.failure("redis");
            tracing::debug!(%error, batch = %id, "write-back release failed");
        }
    }

    /// `retry_min · 2^(attempt-1)`, at most `retry_max`, minus up to 20 % jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let config = &self.shared.config;
        let exp = config
            .retry_min
            .saturating_mul(1 << attempt.saturating_sub(1).min(20));
        exp.min(config.retry_max)
            .mul_f64(1.0 - fastrand::f64() * 0.2)
    }

    /// Stores backlog figures `[dirty, inflight, oldest ms, now ms]`; returns the age.
    fn record_backlog(&self, index: usize, figures: &[u64]) -> Duration {
        let at = |i: usize| figures.get(i).copied().unwrap_or(0);
        let age = at(3).saturating_sub(at(2));
        let gauges = &self.shared.metrics.shards[index];
        gauges.pending.store(at(0), Relaxed);
        gauges.inflight.store(at(1), Relaxed);
        gauges.oldest_age_ms.store(age, Relaxed);
        Duration::from_millis(age)
    }
}
