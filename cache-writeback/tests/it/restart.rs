//! Redis (persistence off) restarted under write-back: what is lost is exactly what was
//! acknowledged but not yet accepted by the sink at kill time, and the loss is detected
//! through `WriteBack::generation`.

use std::sync::Arc;
use std::time::Duration;

use cache_redis::RedisTier;
use cache_redis::test_support::RedisServer;
use cache_writeback::{Error, WriteBack};

use crate::common;
use crate::support::TestSink;

const POSTS: usize = 50;

/// Counts of one writing phase.
#[derive(Debug, Default)]
struct Sent {
    acked: i64,
    refused: i64,
    /// Timeouts: the increment may or may not have landed.
    ambiguous: i64,
}

async fn write(wb: &WriteBack, tasks: usize, per_task: usize) -> Sent {
    let writers: Vec<_> = (0..tasks)
        .map(|_| {
            let wb = wb.clone();
            tokio::spawn(async move {
                let mut sent = Sent::default();
                for _ in 0..per_task {
                    let post = format!("post:{}", fastrand::usize(..POSTS));
                    match wb.incr(&post, "likes", 1).await {
                        Ok(_) => sent.acked += 1,
                        Err(Error::Timeout(_)) => sent.ambiguous += 1,
                        Err(_) => sent.refused += 1,
                    }
                }
                sent
            })
        })
        .collect();
    let mut total = Sent::default();
    for writer in writers {
        let sent = writer.await.unwrap();
        total.acked += sent.acked;
        total.refused += sent.refused;
        total.ambiguous += sent.ambiguous;
    }
    total
}

/// Sum of what waits in Redis (live and in flight) over every post.
async fn at_risk(wb: &WriteBack) -> i64 {
    let mut sum = 0;
    for post in 0..POSTS {
        sum += wb
            .pending(&format!("post:{post}"))
            .await
            .unwrap()
            .delta("likes");
    }
    sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loses_exactly_the_unflushed_changes_and_is_detected() {
    let server = RedisServer::start();
    let tier = RedisTier::builder(&server.url())
        .command_timeout(Duration::from_secs(1))
        .breaker_cooldown(Duration::from_millis(100))
        .connect()
        .await
        .unwrap();
    let wb = WriteBack::builder(&tier, "likes")
        .claim_timeout(Duration::from_millis(300))
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(200))
        .build()
        .unwrap();
    // Fails 10 % of deliveries, always before committing: a batch that failed holds only
    // changes the database does not have, so `pending` is exactly what is unflushed.
    let sink = Arc::new(TestSink::flaky(0.1, 0.0, 2));

    let flusher = wb.spawn_flusher(Duration::from_millis(50), sink.clone());
    let before = write(&wb, 4, 5_000).await;
    flusher.stop().await;
    let tail = write(&wb, 1, 200).await; // certainly unflushed
    assert_eq!(
        before.acked + tail.acked,
        20_200,
        "Redis was up: all acknowledged"
    );
    let generation = wb.generation();
    let lost = at_risk(&wb).await;
    let flushed_before_kill = sink.total("likes");
    assert_eq!(flushed_before_kill + lost, 20_200);

    server.kill();
    let during = write(&wb, 1, 20).await;
    assert_eq!(
        during.acked, 0,
        "nothing is acknowledged while Redis is down"
    );
    server.restart();
    common::eventually(Duration::from_secs(3), "writes succeed again", || async {
        wb.incr("post:0", "likes", 0).await.is_ok()
    })
    .await;
    assert!(wb.generation() > generation, "the loss is reported");
    assert!(wb.stats().state_losses >= 1);

    let flusher = wb.spawn_flusher(Duration::from_millis(50), sink.clone());
    let after = write(&wb, 4, 2_500).await;
    flusher.stop().await;
    wb.drain(sink.as_ref(), Duration::from_secs(10))
        .await
        .unwrap();

    let acked = 20_200 + after.acked;
    let ambiguous = after.ambiguous;
    let total = sink.total("likes");
    println!(
        "acknowledged {acked} (+{ambiguous} timed out), flushed {total}, lost with Redis {lost} \
         (acknowledged but unflushed at kill time), refused while down {}",
        during.refused + during.ambiguous
    );
    assert!(lost > 0, "some changes were at risk at kill time");
    assert!(
        total + lost >= acked && total + lost <= acked + ambiguous,
        "flushed {total} + lost {lost} must account for the {acked} acknowledged"
    );
}
