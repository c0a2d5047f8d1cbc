//! Write-back on one node: pending reads, batches, retries with the same id, reclaiming a
//! crashed flusher's batch, the seed-003 race, last-writer-wins and TTLs on every key.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cache_redis::test_support::RedisServer;
use cache_writeback::{Batch, Sink, SinkError, WriteBack};

use crate::common::{self, keys_with_ttl, raw, tier};
use crate::support::TestSink;

async fn likes(url: &str) -> WriteBack {
    WriteBack::builder(&tier(url).await, "likes")
        .claim_timeout(Duration::from_millis(300))
        .retry_backoff(Duration::from_millis(200), Duration::from_millis(400))
        .build()
        .unwrap()
}

#[tokio::test]
async fn increments_are_pending_until_flushed_and_every_key_has_a_ttl() {
    let server = RedisServer::start();
    let wb = likes(&server.url()).await;
    assert_eq!(wb.incr("post:1", "likes", 2).await.unwrap(), 2);
    assert_eq!(wb.incr("post:1", "likes", 3).await.unwrap(), 5);
    wb.incr("post:2", "likes", -1).await.unwrap();
    wb.set_field("post:2", "title", "hi").await.unwrap();
    let pending = wb.pending("post:1").await.unwrap();
    assert_eq!(pending.delta("likes"), 5);
    assert_eq!(
        wb.pending("post:2").await.unwrap().fields["title"].value,
        "hi"
    );

    // A failing sink leaves a batch record in flight: still pending, still with a TTL.
    let failing = TestSink::flaky(1.0, 0.0, 0);
    let report = wb.flush_now(&failing).await;
    assert_eq!((report.batches, report.failures), (0, 1));
    assert_eq!(wb.pending("post:1").await.unwrap().delta("likes"), 5);
    wb.incr("post:1", "likes", 1).await.unwrap();
    assert_eq!(wb.pending("post:1").await.unwrap().delta("likes"), 6);
    let mut conn = raw(&server.url()).await;
    let keys = keys_with_ttl(&mut conn).await;
    assert!(keys.iter().any(|(k, _)| k.contains(":b:")), "{keys:?}");
    for (key, ttl) in &keys {
        assert!(*ttl > 23 * 3600 * 1000, "{key} has TTL {ttl}");
    }

    let sink = TestSink::reliable();
    let report = wb.drain(&sink, Duration::from_secs(5)).await.unwrap();
    assert_eq!(report.batches, 2, "the retried batch and the new one");
    assert_eq!(
        (sink.value("post:1", "likes"), sink.value("post:2", "likes")),
        (6, -1)
    );
    assert!(wb.pending("post:1").await.unwrap().deltas.is_empty());
    assert!(wb.backlog().await.unwrap().is_empty());
    let stats = wb.stats();
    assert_eq!(
        (stats.writes, stats.batches_flushed, stats.sink_failures),
        (5, 2, 1)
    );
    assert_eq!(
        (
            stats.retries,
            stats.pending_entities,
            stats.inflight_batches
        ),
        (1, 0, 0)
    );
    let left = keys_with_ttl(&mut conn).await;
    assert!(left.iter().all(|(k, _)| k.ends_with(":state")), "{left:?}");
}

#[tokio::test]
async fn a_failed_batch_comes_back_after_its_backoff_with_the_same_id() {
    let server = RedisServer::start();
    let wb = likes(&server.url()).await;
    wb.incr("post:1", "likes", 1).await.unwrap();
    let sink = TestSink::flaky(0.0, 1.0, 0); // commits, then reports a failure
    assert_eq!(wb.flush_now(&sink).await.failures, 1);
    assert_eq!(
        wb.flush_now(&sink).await,
        Default::default(),
        "still backing off"
    );
    let reliable = TestSink::reliable();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let report = wb.flush_now(&reliable).await;
    assert_eq!(report.batches, 1);
    let first = sink.db.lock().unwrap().applied.clone();
    let second = reliable.db.lock().unwrap().applied.clone();
    assert_eq!(first, second, "same batch id");
    assert_eq!(reliable.db.lock().unwrap().max_attempt, 2);
}

/// A sink that never answers its first call.
struct Stuck(AtomicUsize);

#[async_trait::async_trait]
impl Sink for Stuck {
    async fn write(&self, _batch: &Batch) -> Result<(), SinkError> {
        if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_batch_left_by_a_crashed_flusher_is_reclaimed_after_the_claim_timeout() {
    let server = RedisServer::start();
    let wb = likes(&server.url()).await;
    wb.incr("post:1", "likes", 7).await.unwrap();
    let stuck = Arc::new(Stuck(AtomicUsize::new(0)));
    let flusher = wb.spawn_flusher(Duration::from_millis(10), stuck.clone());
    common::eventually(Duration::from_secs(2), "the sink got the batch", || async {
        stuck.0.load(Ordering::SeqCst) == 1
    })
    .await;
    flusher.abort();
    let sink = TestSink::reliable();
    assert_eq!(wb.flush_now(&sink).await.batches, 0, "still claimed");
    assert_eq!(wb.pending("post:1").await.unwrap().delta("likes"), 7);
    wb.drain(&sink, Duration::from_secs(3)).await.unwrap();
    assert_eq!(sink.value("post:1", "likes"), 7);
    assert_eq!(wb.stats().reclaimed, 1);
}

/// Seed 003's race: increments that arrive while a batch is being written.
struct Racing {
    wb: WriteBack,
    db: TestSink,
    batches: std::sync::Mutex<Vec<i64>>,
}

#[async_trait::async_trait]
impl Sink for Racing {
    async fn write(&self, batch: &Batch) -> Result<(), SinkError> {
        let calls = {
            let mut batches = self.batches.lock().unwrap();
            batches.push(batch.total_delta("likes"));
            batches.len()
        };
        if calls <= 3 {
            for _ in 0..10 {
                self.wb.incr("post:1", "likes", 1).await.unwrap();
            }
        }
        self.db.write(batch).await
    }
}

#[tokio::test]
async fn increments_during_a_flush_stay_pending_for_the_next_batch() {
    let server = RedisServer::start();
    let wb = likes(&server.url()).await;
    wb.incr("post:1", "likes", 1).await.unwrap();
    let racing = Racing {
        wb: wb.clone(),
        db: TestSink::reliable(),
        batches: Default::default(),
    };
    let report = wb.flush_now(&racing).await;
    assert_eq!(report.batches, 4);
    // Each batch holds exactly what was written before it was claimed.
    assert_eq!(*racing.batches.lock().unwrap(), [1, 10, 10, 10]);
    assert_eq!(racing.db.value("post:1", "likes"), 31);
    assert!(wb.backlog().await.unwrap().is_empty());
}

#[tokio::test]
async fn last_writer_wins_even_when_an_older_batch_is_retried_later() {
    let server = RedisServer::start();
    let wb = likes(&server.url()).await;
    let v1 = wb.set_field("post:1", "title", "old").await.unwrap();
    assert_eq!(
        wb.flush_now(&TestSink::flaky(1.0, 0.0, 0)).await.failures,
        1
    );
    let v2 = wb.set_field("post:1", "title", "new").await.unwrap();
    assert!(v2 > v1);
    assert_eq!(
        wb.pending("post:1").await.unwrap().fields["title"].value,
        "new"
    );
    let sink = TestSink::reliable();
    assert_eq!(
        wb.flush_now(&sink).await.batches,
        1,
        "the newer batch goes first"
    );
    wb.drain(&sink, Duration::from_secs(3)).await.unwrap();
    let db = sink.db.lock().unwrap();
    assert_eq!(db.applied.len(), 2);
    let title = &db.fields[&("post:1".to_string(), "title".to_string())];
    assert_eq!((title.value.as_str(), title.version), ("new", v2));
}

#[tokio::test]
async fn settings_are_checked_and_metrics_are_reported() {
    let server = RedisServer::start();
    let redis = tier(&server.url()).await;
    for bad in ["", "a{b}"] {
        assert!(WriteBack::builder(&redis, bad).build().is_err());
    }
    let short = WriteBack::builder(&redis, "x").pending_ttl(Duration::from_secs(60));
    assert!(short.build().is_err(), "TTL under 4 × claim timeout");

    let metrics = cache_core::metrics::prometheus::PrometheusMetrics::new().unwrap();
    let wb = WriteBack::builder(&redis, "views")
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(50))
        .meter(metrics.meter())
        .build()
        .unwrap();
    wb.incr("page:1", "views", 1).await.unwrap();
    wb.flush_now(&TestSink::flaky(1.0, 0.0, 0)).await;
    wb.incr("page:2", "views", 1).await.unwrap();
    wb.backlog().await.unwrap();
    let text = metrics.render();
    for name in [
        "cache_write_back_pending",
        "cache_write_back_inflight",
        "cache_write_back_oldest_pending_age_seconds",
        "cache_write_back_failures_total",
    ] {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    wb.drain(&TestSink::reliable(), Duration::from_secs(3))
        .await
        .unwrap();
    let text = metrics.render();
    assert!(text.contains("cache_write_back_batches_total"), "{text}");
    assert!(
        text.contains("cache_write_back_flush_duration_seconds_bucket"),
        "{text}"
    );
    assert!(format!("{wb:?}").contains("views"));
}
