//! 4 tasks × 25,000 increments on 100 posts through two "app nodes", each running a flusher
//! every 50 ms, while the sink fails 10 % of its calls (half before, half after committing)
//! and a fault injector aborts and respawns flushers at random. After quiescing, the
//! database holds exactly what was sent, per post. Then the same on a 3-node Cluster.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cache_redis::RedisTier;
use cache_redis::test_support::{RedisCluster, RedisServer};
use cache_writeback::{FlusherHandle, WriteBack};
use parking_lot::Mutex;

use crate::common;
use crate::support::TestSink;

const TASKS: usize = 4;
const POSTS: usize = 100;
const INTERVAL: Duration = Duration::from_millis(50);

fn write_back(tier: &RedisTier) -> WriteBack {
    WriteBack::builder(tier, "likes")
        .claim_timeout(Duration::from_millis(300))
        .retry_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .max_batch_entities(50)
        .build()
        .unwrap()
}

async fn stress(label: &str, nodes: Vec<WriteBack>, per_task: usize) {
    let started = Instant::now();
    let sink = Arc::new(TestSink::flaky(0.05, 0.05, 3));
    let flushers: Arc<Vec<Mutex<Option<FlusherHandle>>>> = Arc::new(
        nodes
            .iter()
            .map(|wb| Mutex::new(Some(wb.spawn_flusher(INTERVAL, sink.clone()))))
            .collect(),
    );
    let writing = Arc::new(AtomicBool::new(true));
    let injector = {
        let (nodes, flushers, writing, sink) = (
            nodes.clone(),
            flushers.clone(),
            writing.clone(),
            sink.clone(),
        );
        tokio::spawn(async move {
            let mut kills = 0;
            while writing.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(fastrand::u64(20..150))).await;
                let i = fastrand::usize(..nodes.len());
                let old = flushers[i].lock().take();
                if let Some(old) = old {
                    old.abort();
                    kills += 1;
                }
                let new = nodes[i].spawn_flusher(INTERVAL, sink.clone());
                *flushers[i].lock() = Some(new);
            }
            kills
        })
    };
    let writers: Vec<_> = (0..TASKS)
        .map(|t| {
            let wb = nodes[t % nodes.len()].clone();
            tokio::spawn(async move {
                let mut sent = vec![0_i64; POSTS];
                for _ in 0..per_task {
                    let post = fastrand::usize(..POSTS);
                    wb.incr(&format!("post:{post}"), "likes", 1)
                        .await
                        .expect("Redis is up: every increment is acknowledged");
                    sent[post] += 1;
                }
                sent
            })
        })
        .collect();
    let mut sent = vec![0_i64; POSTS];
    for writer in writers {
        for (post, n) in writer.await.unwrap().into_iter().enumerate() {
            sent[post] += n;
        }
    }
    let wrote = started.elapsed();
    writing.store(false, Ordering::SeqCst);
    let kills = injector.await.unwrap();
    for slot in flushers.iter() {
        if let Some(flusher) = slot.lock().take() {
            flusher.abort();
        }
    }
    // Quiesce: flush (with the same flaky sink) until nothing is pending or in flight.
    nodes[0]
        .drain(sink.as_ref(), Duration::from_secs(30))
        .await
        .expect("the backlog drains");

    let expected = (TASKS * per_task) as i64;
    assert_eq!(
        sink.total("likes"),
        expected,
        "no update lost or applied twice"
    );
    for (post, n) in sent.iter().enumerate() {
        assert_eq!(
            sink.value(&format!("post:{post}"), "likes"),
            *n,
            "post {post}"
        );
    }
    let stats: Vec<_> = nodes.iter().map(WriteBack::stats).collect();
    let reclaimed: u64 = stats.iter().map(|s| s.reclaimed).sum();
    let retries: u64 = stats.iter().map(|s| s.retries).sum();
    let db = sink.db.lock().unwrap();
    println!(
        "{label}: {expected} increments in {wrote:?} (total {:?}): {} batches, {kills} flusher kills, \
         sink failures {} before / {} after commit, {} repeated deliveries ignored, \
         {retries} retries, {reclaimed} reclaimed after the claim timeout, 0 lost",
        started.elapsed(),
        db.applied.len(),
        db.failed_before,
        db.failed_after,
        db.repeats,
    );
    assert!(kills > 0 && db.failed_before > 0 && db.failed_after > 0);
    assert!(
        db.repeats > 0,
        "commits whose reply was lost were delivered again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_node_exact_totals_under_sink_failures_and_flusher_crashes() {
    let server = RedisServer::start();
    let a = common::tier(&server.url()).await;
    let b = common::tier(&server.url()).await;
    stress("single node", vec![write_back(&a), write_back(&b)], 25_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_exact_totals_under_sink_failures_and_flusher_crashes() {
    let cluster = RedisCluster::start();
    let a = common::cluster_tier(&cluster.urls()).await;
    let b = common::cluster_tier(&cluster.urls()).await;
    let (a, b) = (write_back(&a), write_back(&b));
    assert_eq!(a.config().shards, 8);
    stress("cluster", vec![a, b], 25_000).await;
}
