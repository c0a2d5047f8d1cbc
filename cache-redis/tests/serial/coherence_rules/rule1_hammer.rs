//! Rule 1 on one node: once `invalidate` has returned, no read that starts afterwards returns
//! a value whose load began before it — not from the local tier, not from Redis, not by
//! joining a flight already in the air.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cache_core::CacheKey;
use cache_redis::test_support::RedisServer;
use tokio::sync::oneshot;

use super::common::{Calls, node, tier};
use super::{Model, SERIAL, WITHIN, bounded, opts};

const READERS: usize = 50;
const WRITES: u64 = 20;

fn jitter(max_ms: u64) -> Duration {
    Duration::from_millis(fastrand::u64(0..=max_ms))
}

/// 50 readers loop `get_or_load` on one key while a writer bumps the model and invalidates 20
/// times. A read that started after invalidation #k returned must see version k or newer.
///
/// The old design let a load that read version k-1 store it after invalidation #k (plain
/// `SET`, unconditional local insert), and let new readers join that load's flight, so reads
/// long after #k still returned k-1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_hammering_a_key_never_see_a_version_older_than_the_last_invalidate() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let cache = node(&tier(&server.url()).await);
    let model = Model::new(0);
    let key = CacheKey::new("hammer", &1);
    let stop = Arc::new(AtomicBool::new(false));

    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (cache, key, model, stop) =
                (cache.clone(), key.clone(), model.clone(), stop.clone());
            tokio::spawn(async move {
                let mut reads = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let start = Instant::now();
                    let model = model.clone();
                    let got = cache
                        .get_or_load(&key, &opts(), || async move {
                            // Delays on both sides of the read widen the window in which an
                            // invalidation overtakes a load that already read.
                            tokio::time::sleep(jitter(2)).await;
                            let version = model.get();
                            tokio::time::sleep(jitter(3)).await;
                            Ok::<u64, ()>(version)
                        })
                        .await
                        .unwrap();
                    reads.push((start, Instant::now(), got));
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();

    // invalidated[k - 1]: when invalidation #k returned (its model bump came before it).
    let mut invalidated = Vec::new();
    for version in 1..=WRITES {
        tokio::time::sleep(Duration::from_millis(5) + jitter(10)).await;
        model.set(version);
        cache.invalidate(&key).await;
        invalidated.push(Instant::now());
    }
    // Let every reader start at least a few reads after the last invalidation.
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, Ordering::SeqCst);

    let mut reads = Vec::new();
    for reader in readers {
        reads.extend(
            bounded(WITHIN * 5, "a reader stopped", reader)
                .await
                .unwrap(),
        );
    }
    let mut stale = Vec::new();
    for &(start, end, got) in &reads {
        // The newest invalidation that had returned before this read started.
        let floor = invalidated.iter().take_while(|&&at| at < start).count() as u64;
        if got < floor {
            stale.push((got, floor, end - start));
        }
    }
    let after_last = reads
        .iter()
        .filter(|(start, ..)| *start > invalidated[WRITES as usize - 1])
        .count();
    eprintln!(
        "{} reads, {after_last} after the last invalidation, stats {:?}",
        reads.len(),
        cache.stats()
    );
    assert!(
        after_last > 0,
        "some reads started after the last invalidation"
    );
    assert!(
        stale.is_empty(),
        "{} reads returned a version older than an invalidation that returned before they \
         started (value, floor, duration): {:?}",
        stale.len(),
        &stale[..stale.len().min(10)]
    );
}

/// A flight is in the air (its loader read version 1 and blocks); `invalidate` returns; a new
/// read must start a load of its own (and get 2 while the old flight still blocks), not join
/// the old one.
///
/// The old design kept the flight in the single-flight map, so the new read waited for the
/// blocked loader and then returned its 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_after_invalidate_never_joins_a_flight_that_began_before() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let cache = node(&tier(&server.url()).await);
    let model = Model::new(1);
    let key = CacheKey::new("flight", &1);

    let (read_tx, read_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let old = {
        let (cache, key, model) = (cache.clone(), key.clone(), model.clone());
        tokio::spawn(async move {
            cache
                .get_or_load(&key, &opts(), || async move {
                    let version = model.get();
                    read_tx.send(()).unwrap();
                    release_rx.await.unwrap();
                    Ok::<u64, ()>(version)
                })
                .await
        })
    };
    bounded(WITHIN, "the first flight's loader read the model", read_rx)
        .await
        .unwrap();
    assert_eq!(cache.loads_in_flight(), 1);

    model.set(2);
    cache.invalidate(&key).await;
    let calls = Calls::default();
    let load = |calls: Calls, model: Model| async move {
        calls.hit();
        Ok::<u64, ()>(model.get())
    };
    let fresh = bounded(
        WITHIN,
        "a read after invalidate does not wait for the old flight",
        cache.get_or_load(&key, &opts(), || load(calls.clone(), model.clone())),
    )
    .await;
    assert_eq!(fresh, Ok(2));
    assert_eq!(calls.get(), 1, "the new read ran its own load");
    assert!(!old.is_finished(), "the old flight is still blocked");

    release_tx.send(()).unwrap();
    let old = bounded(WITHIN, "the old flight returned", old)
        .await
        .unwrap();
    assert_eq!(old, Ok(1), "the old flight answers what it read");
    // Its result replaced nothing: the next read is a hit on 2.
    let again = cache
        .get_or_load(&key, &opts(), || load(calls.clone(), model.clone()))
        .await;
    assert_eq!(again, Ok(2));
    assert_eq!(calls.get(), 1, "no load after the old flight returned");
}
