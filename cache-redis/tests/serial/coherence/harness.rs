//! One run: readers and writers on every node while faults are injected, then settle, sweep
//! and check.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use cache_core::{Cache, CacheKey, RemoteEvent, RemoteTier};
use cache_redis::BreakerState;

use super::checker::{self, Violation};
use super::faults::Faults;
use super::history::{Fault, History, MARKER, Read, Recorder, Write, WriteKind};
use super::model::{Db, Node, ROWS, Value, key, opts, tag};

pub struct Plan {
    pub name: &'static str,
    pub duration: Duration,
    pub readers_per_node: usize,
    pub writers_per_node: usize,
    /// Added after a marker's delivery (Cluster: see `checker::effective`).
    pub slack: Duration,
}

impl Plan {
    /// `COHERENCE_SOAK_SECS=<n>` runs each scenario for n seconds instead of `default`.
    pub fn duration(default: Duration) -> Duration {
        std::env::var("COHERENCE_SOAK_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(default, Duration::from_secs)
    }
}

pub struct Outcome {
    pub history: History,
    pub violations: Vec<Violation>,
    pub sweep: Vec<String>,
}

/// Hard caps so a long soak or a fast machine cannot grow the history without bound.
const MAX_READS: u64 = 2_000_000;
const MAX_WRITES: u64 = 200_000;

fn jitter(max_ms: u64) -> Duration {
    Duration::from_millis(fastrand::u64(0..=max_ms))
}

pub async fn run(
    plan: &Plan,
    nodes: &[Node],
    recorder: &Recorder,
    faults: &mut impl Faults,
) -> Outcome {
    let db = Db::new();
    recorder.0.lock().t0 = Instant::now();
    let stop = Instant::now() + plan.duration;
    let (reads, write_ids) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        for _ in 0..plan.readers_per_node {
            let (node, db, rec, reads) =
                (node.clone(), db.clone(), recorder.clone(), reads.clone());
            tasks.push(tokio::spawn(async move {
                while Instant::now() < stop && reads.fetch_add(1, Relaxed) < MAX_READS {
                    read(index, &node, &db, &rec).await;
                    tokio::time::sleep(jitter(3)).await;
                }
            }));
        }
        for _ in 0..plan.writers_per_node {
            let (node, db, rec, ids) = (
                node.clone(),
                db.clone(),
                recorder.clone(),
                write_ids.clone(),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(5) + jitter(40)).await;
                    let id = ids.fetch_add(1, Relaxed);
                    if Instant::now() >= stop || id >= MAX_WRITES {
                        break;
                    }
                    write(id, index, &node, &db, &rec).await;
                }
            }));
        }
    }
    // One fault at a time, spaced 1–3 s, none starting in the last 2 s.
    loop {
        tokio::time::sleep(Duration::from_millis(1000) + jitter(2000)).await;
        if Instant::now() + Duration::from_secs(2) >= stop {
            break;
        }
        let start = Instant::now();
        let kind = faults.inject().await;
        recorder.fault(Fault {
            kind,
            start,
            end: Instant::now(),
        });
    }
    for task in tasks {
        task.await.expect("a reader or writer panicked");
    }
    faults.heal().await;
    settle(nodes).await;
    let sweep = sweep(nodes, &db).await;
    let history = std::mem::replace(&mut *recorder.0.lock(), History::new(nodes.len()));
    let violations = checker::check(&history, plan.slack);
    // What each node's cache and tier counted: where stale reads came from, when there are any.
    for (index, node) in nodes.iter().enumerate() {
        let (c, t) = (node.cache.stats(), node.tier.stats());
        eprintln!(
            "node {index}: fenced_fills {} errors {} corrupt {} | queued {} replayed {} \
             error_replies {} unavailable {} timeouts {} subscriptions {} untrusted_clears {}",
            c.fenced_fills,
            c.errors,
            c.corrupt_entries,
            t.queued,
            t.replayed,
            t.error_replies,
            t.unavailable_replies,
            t.timeouts,
            t.subscriptions,
            t.untrusted_clears
        );
    }
    Outcome {
        history,
        violations,
        sweep,
    }
}

async fn read(index: usize, node: &Node, db: &Db, rec: &Recorder) {
    let row = fastrand::u32(0..ROWS);
    let start = Instant::now();
    let got = node
        .cache
        .get_or_load(&key(row), &opts(row), || async {
            tokio::time::sleep(jitter(15)).await;
            let version = db.read(row);
            tokio::time::sleep(jitter(15)).await;
            Ok::<_, String>(Value { row, version })
        })
        .await
        .expect("the loader never fails");
    assert_eq!(got.row, row, "a value cached under another row's key");
    rec.read(Read {
        node: index,
        row,
        start,
        end: Instant::now(),
        version: got.version,
    });
}

async fn write(id: u64, index: usize, node: &Node, db: &Db, rec: &Recorder) {
    let row = fastrand::u32(0..ROWS);
    let kind = match fastrand::u8(0..3) {
        0 => WriteKind::Invalidate,
        1 => WriteKind::Set,
        _ => WriteKind::InvalidateTag,
    };
    let queued_before = node.tier.stats().queued;
    let guard = db.row_locks[row as usize].lock().await;
    let start = Instant::now();
    let version = db.bump(row);
    match kind {
        WriteKind::Invalidate => node.cache.invalidate(&key(row)).await,
        WriteKind::Set => {
            node.cache
                .set(&key(row), &Value { row, version }, &opts(row))
                .await
        }
        WriteKind::InvalidateTag => node.cache.invalidate_tag(&tag(row)).await,
    }
    let end = Instant::now();
    drop(guard);
    // Another writer on this node may have queued instead: that only makes us more lenient.
    let queued =
        node.tier.stats().queued > queued_before || node.tier.health().queued_operations > 0;
    rec.write(Write {
        id,
        node: index,
        row,
        kind,
        start,
        end,
        version,
        queued,
    });
    if queued {
        // Our event waits in the recovery queue; publish the marker once it drained, so the
        // marker most likely follows the replayed event (REPLAY_SLACK covers the rest).
        let until = Instant::now() + Duration::from_secs(5);
        while node.tier.health().queued_operations > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let marker = RemoteEvent::Invalidate(format!("{MARKER}{id}"));
    // A failed marker is queued and replayed later: a later delivery is still an upper bound.
    let _ = node.tier.publish(marker).await;
}

/// Waits (bounded) until every tier's breaker is up, its backplane subscribed and nothing is
/// queued, nudging each with a read so a half-open breaker gets its probe.
async fn settle(nodes: &[Node]) {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let mut ready = true;
        for node in nodes {
            let _ = node.cache.get::<u8>(&CacheKey::new("settle", &0)).await;
            let health = node.tier.health();
            ready &= health.state == BreakerState::Up
                && health.backplane_connected
                && health.queued_operations == 0;
        }
        if ready || Instant::now() > until {
            if !ready {
                eprintln!("coherence: tiers did not settle within 20 s; sweeping anyway");
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let in-flight backplane deliveries land.
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Rule 3: after the dust settles every node must read every row's final version. A stale
/// answer is reported with what Redis itself holds (read through a cache without local tier),
/// to tell a stale Redis entry from a stale local one.
async fn sweep(nodes: &[Node], db: &Db) -> Vec<String> {
    let mut stale = Vec::new();
    let redis = Cache::builder()
        .namespace("coh")
        .without_local()
        .remote(nodes[0].tier.clone())
        .build();
    for (index, node) in nodes.iter().enumerate() {
        for row in 0..ROWS {
            let want = db.read(row);
            let got = node
                .cache
                .get_or_load(&key(row), &opts(row), || async {
                    Ok::<_, String>(Value {
                        row,
                        version: db.read(row),
                    })
                })
                .await
                .expect("the loader never fails");
            if got.version != want {
                let in_redis = redis.get::<Value>(&key(row)).await.map(|v| v.version);
                stale.push(format!(
                    "node {index} row {row}: v{} cached, final v{want}, Redis holds {in_redis:?}",
                    got.version
                ));
            }
        }
    }
    stale
}
