//! Rule 4: a change that failed because Redis was unreachable never brings an old value back.
//! A fill whose reply was lost is not queued (it was fenced; if it landed, the next
//! invalidation removes it); a failed invalidation is queued, replayed and announced; a failed
//! `set` is replayed as a delete.

use std::time::{Duration, Instant};

use cache_core::CacheKey;
use cache_redis::RedisTier;
use cache_redis::test_support::RedisServer;
use futures_util::StreamExt;
use tokio::sync::oneshot;

use super::common::{Calls, builder, eventually, node, raw, remote_only, tier};
use super::{Model, SERIAL, WITHIN, bounded, opts, raw_value};

/// One failure opens the breaker for `cooldown`: a gate that holds anything queued on this
/// tier back until the test has made its next move.
async fn gated_tier(url: &str, timeout: Duration, cooldown: Duration) -> RedisTier {
    RedisTier::builder(url)
        .command_timeout(timeout)
        .breaker_failures(1_u32)
        .breaker_cooldown(cooldown)
        .connect()
        .await
        .expect("connect to the test server")
}

/// Reads `key` on `cache` with a loader that reads `model`.
async fn read(cache: &cache_core::Cache, key: &CacheKey, model: &Model, calls: &Calls) -> u64 {
    let (model, calls) = (model.clone(), calls.clone());
    cache
        .get_or_load(key, &opts(), || async move {
            calls.hit();
            Ok::<u64, ()>(model.get())
        })
        .await
        .unwrap()
}

/// Node A cold-loads v1; Redis is frozen (`SIGSTOP`) before the fill, which times out and is
/// delivered when Redis resumes. Then B bumps the model to v2 and invalidates. Redis must not
/// hold v1 afterwards — also after A's breaker lets queued work through — and every node
/// reads v2.
///
/// The old design queued the failed fill as a write of v1 and replayed it once A's breaker
/// closed again: after B's invalidation, so Redis held v1 again and every node read it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_that_failed_during_sigstop_does_not_outlive_the_next_invalidation() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let url = server.url();
    let a_tier = gated_tier(
        &url,
        Duration::from_millis(200),
        Duration::from_millis(1500),
    )
    .await;
    let a = node(&a_tier);
    let (b, c) = (node(&tier(&url).await), node(&tier(&url).await));
    let (model, calls) = (Model::new(1), Calls::default());
    // Loads the fill script into the server, so the fill frozen below is a plain EVALSHA
    // that runs as soon as Redis resumes (no NOSCRIPT round trip left to a dropped caller).
    read(&a, &CacheKey::new("warm", &0), &model, &calls).await;

    let key = CacheKey::new("frozen", &1);
    let (started_tx, started_rx) = oneshot::channel();
    let (paused_tx, paused_rx) = oneshot::channel::<()>();
    let load = {
        let (a, key, model) = (a.clone(), key.clone(), model.clone());
        tokio::spawn(async move {
            a.get_or_load(&key, &opts(), || async move {
                let version = model.get();
                started_tx.send(()).unwrap();
                paused_rx.await.unwrap();
                Ok::<u64, ()>(version)
            })
            .await
        })
    };
    bounded(WITHIN, "A's loader started (lease held)", started_rx)
        .await
        .unwrap();
    server.pause();
    paused_tx.send(()).unwrap();
    let answered = bounded(WITHIN, "A's load returned despite the frozen fill", load).await;
    assert_eq!(answered.unwrap(), Ok(1));
    assert!(a_tier.stats().timeouts >= 1, "{:?}", a_tier.stats());
    assert_eq!(
        a_tier.health().queued_operations,
        0,
        "a failed fill is never queued"
    );

    server.resume();
    // The frozen fill runs now; the lease is still in place, so v1 lands — its caller just
    // never heard of it.
    let remote_key = a.remote_key(&key);
    let mut conn = raw(&url).await;
    eventually(WITHIN, "the frozen fill landed after resume", || async {
        raw_value(&mut raw(&url).await, &remote_key).await == Some(1)
    })
    .await;

    model.set(2);
    b.invalidate(&key).await;
    assert_eq!(raw_value(&mut conn, &remote_key).await, None);
    assert_eq!(read(&b, &key, &model, &calls).await, 2, "B");
    assert_eq!(read(&c, &key, &model, &calls).await, 2, "C");
    // A's local v1 goes with B's announcement; A's reads fail fast meanwhile and load.
    eventually(WITHIN, "A reads v2", || async {
        read(&a, &key, &model, &calls).await == 2
    })
    .await;
    // Past A's breaker cool-down: had A queued anything for the key, it is replayed now.
    // (Reads of other keys reach Redis and so let the breaker probe.)
    let probes = std::sync::atomic::AtomicU64::new(0);
    eventually(WITHIN * 2, "A's breaker closed again", || async {
        let n = probes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = a.get::<u64>(&CacheKey::new("probe", &n)).await;
        a_tier.health().state == cache_redis::BreakerState::Up
    })
    .await;
    assert_eq!(a_tier.stats().replayed, 0, "nothing was queued to replay");
    assert_eq!(raw_value(&mut conn, &remote_key).await, Some(2));
    for (name, cache) in [("A", &a), ("B", &b), ("C", &c)] {
        assert_eq!(
            read(cache, &key, &model, &calls).await,
            2,
            "{name} at the end"
        );
    }
}

/// Redis is killed (it keeps its data: AOF); A invalidates a key B also holds: the delete is
/// queued, A drops its copy. After the restart Redis still holds v1 until the replay deletes
/// it and announces the key on the backplane; then B reads v2.
///
/// The old design queued the same delete; this pins that the replay happens (Redis kept v1
/// across the restart, only the replay removes it) and is announced under the key (a node
/// that re-read v1 after the restart drops it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidate_during_an_outage_is_replayed_and_announced_after_restart() {
    let _serial = SERIAL.lock().await;
    let dir = std::env::temp_dir().join(format!(
        "coherence-rules-{}-{:x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_arg = dir.to_string_lossy().into_owned();
    let server = RedisServer::start_with(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        &dir_arg,
    ]);
    let url = server.url();
    let a_tier = gated_tier(&url, Duration::from_millis(250), Duration::from_secs(3)).await;
    let a = node(&a_tier);
    let b = node(&tier(&url).await);
    let (model, calls) = (Model::new(1), Calls::default());
    let key = CacheKey::new("outage", &1);
    let remote_key = a.remote_key(&key);
    assert_eq!(read(&a, &key, &model, &calls).await, 1);
    assert_eq!(read(&b, &key, &model, &calls).await, 1);

    server.kill();
    model.set(2);
    a.invalidate(&key).await;
    assert!(
        a_tier.health().queued_operations >= 1,
        "the failed delete is queued"
    );
    assert_eq!(
        read(&a, &key, &model, &calls).await,
        2,
        "A dropped its copy"
    );

    server.restart();
    // `restart` returns once the process answers; it may still be loading its AOF (`LOADING`
    // replies) for a moment.
    eventually(WITHIN, "Redis serves reads after the restart", || async {
        server
            .query(&["GET", "probe"])
            .is_ok_and(|reply| !reply.starts_with('-'))
    })
    .await;
    let mut conn = raw(&url).await;
    // Subscribed before A's breaker lets the replay through.
    let mut pubsub = redis::Client::open(url.as_str())
        .unwrap()
        .get_async_pubsub()
        .await
        .unwrap();
    pubsub.subscribe(&a_tier.config().channel).await.unwrap();
    assert_eq!(
        a_tier.stats().replayed,
        0,
        "the restart took longer than A's breaker cool-down"
    );
    assert_eq!(
        raw_value(&mut conn, &remote_key).await,
        Some(1),
        "Redis kept v1 across the restart"
    );
    let expected = format!("1|K|{}|{remote_key}", a_tier.node_id());
    let mut messages = pubsub.on_message();
    bounded(WITHIN * 3, "the replayed delete is announced", async {
        while let Some(message) = messages.next().await {
            if message.get_payload_bytes() == expected.as_bytes() {
                return;
            }
        }
    })
    .await;
    eventually(WITHIN, "A's queue is empty", || async {
        a_tier.health().queued_operations == 0
    })
    .await;
    assert!(a_tier.stats().replayed >= 1, "{:?}", a_tier.stats());
    assert_eq!(raw_value(&mut conn, &remote_key).await, None, "v1 is gone");
    eventually(WITHIN, "B reads v2", || async {
        read(&b, &key, &model, &calls).await == 2
    })
    .await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `set` of v1 fails (Redis killed) and is queued; after the restart B writes v2 before A's
/// breaker lets the replay through. The replay is a delete: Redis never holds v1 again, and
/// every node reads v2.
///
/// The old design replayed the queued write itself: v1 overwrote B's newer v2 in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_during_an_outage_is_replayed_as_a_delete_never_as_the_old_value() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let url = server.url();
    let a_tier = gated_tier(&url, Duration::from_millis(250), Duration::from_secs(3)).await;
    let a = node(&a_tier);
    let key = CacheKey::new("outage-set", &1);
    let remote_key = a.remote_key(&key);
    let (model, calls) = (Model::new(1), Calls::default());

    server.kill();
    a.set(&key, &1_u64, &opts()).await;
    assert!(
        a_tier.health().queued_operations >= 1,
        "the failed set is queued"
    );

    server.restart();
    // B connects after the restart, so its write cannot meet the killed connection.
    let b = node(&tier(&url).await);
    model.set(2);
    b.set(&key, &2_u64, &opts()).await;
    let mut conn = raw(&url).await;
    assert_eq!(raw_value(&mut conn, &remote_key).await, Some(2));
    assert_eq!(
        a_tier.stats().replayed,
        0,
        "the restart took longer than A's breaker cool-down"
    );

    // Watch Redis until A's replay is done: v1 must never reappear.
    let mut seen = Vec::new();
    let deadline = Instant::now() + WITHIN * 3;
    loop {
        seen.push(raw_value(&mut conn, &remote_key).await);
        if a_tier.health().queued_operations == 0 && a_tier.stats().replayed >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "A did not replay its queue");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen.push(raw_value(&mut conn, &remote_key).await);
    assert!(
        !seen.contains(&Some(1)),
        "Redis held the old value again: {seen:?}"
    );
    // The replayed delete may have removed B's v2 too (a delete is always safe): a node
    // without a local tier then loads v2.
    let c = remote_only(&tier(&url).await);
    assert_eq!(read(&c, &key, &model, &calls).await, 2, "C");
    assert_eq!(read(&b, &key, &model, &calls).await, 2, "B");
    eventually(WITHIN, "A reads v2", || async {
        read(&a, &key, &model, &calls).await == 2
    })
    .await;
    assert_ne!(raw_value(&mut conn, &remote_key).await, Some(1));
}

/// Redis is frozen (`SIGSTOP`). A's `set` of v2 times out, so A queues a delete and returns;
/// then B writes v3, which waits in Redis's socket buffer behind it. When Redis resumes it
/// runs each connection's commands in the order the connections became readable — B's first
/// (B had a read pending since before A's write), so A's late `SET` of v2 lands *after* B's
/// v3. B's `set` has returned: neither B nor anyone else may read v2 from then on, also while
/// A's breaker still holds its queued delete back.
///
/// Before the fix A only queued the delete: Redis held v2 over v3 until A's replay, and a
/// node without a local copy (B here, or any node that dropped its copy) read v2 back right
/// after B's `set` returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_that_timed_out_and_runs_late_does_not_undo_a_newer_set() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let url = server.url();
    let a_tier = gated_tier(&url, Duration::from_millis(200), Duration::from_secs(3)).await;
    let a = node(&a_tier);
    // B waits out the freeze: its calls are answered once Redis resumes.
    let b_tier = builder(&url)
        .command_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect to the test server");
    let b = remote_only(&b_tier);
    let key = CacheKey::new("late-set", &1);
    let remote_key = a.remote_key(&key);
    let (model, calls) = (Model::new(1), Calls::default());
    a.set(&key, &1_u64, &opts()).await;
    assert_eq!(read(&b, &key, &model, &calls).await, 1);

    server.pause();
    // B's connection becomes readable first, so Redis serves it first after the resume.
    let pending_read = {
        let b = b.clone();
        tokio::spawn(async move { b.get::<u64>(&CacheKey::new("other", &0)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    model.set(2);
    a.set(&key, &2_u64, &opts()).await;
    assert!(a_tier.stats().timeouts >= 1, "{:?}", a_tier.stats());
    assert!(
        a_tier.health().queued_operations >= 1,
        "A's failed set is queued as a delete"
    );
    model.set(3);
    let newer = {
        let b = b.clone();
        let key = key.clone();
        tokio::spawn(async move { b.set(&key, &3_u64, &opts()).await })
    };
    // Let B's SET reach Redis's socket before the resume.
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.resume();
    bounded(WITHIN, "B's set returned after the resume", newer)
        .await
        .unwrap();
    bounded(WITHIN, "B's pending read returned", pending_read)
        .await
        .unwrap();

    let mut conn = raw(&url).await;
    assert_ne!(
        raw_value(&mut conn, &remote_key).await,
        Some(2),
        "A's late SET outlived B's newer write"
    );
    assert_eq!(read(&b, &key, &model, &calls).await, 3, "B after its set");
    let c = remote_only(&tier(&url).await);
    assert_eq!(read(&c, &key, &model, &calls).await, 3, "C");
    assert_eq!(
        a_tier.stats().replayed,
        0,
        "A's breaker still holds its queue"
    );
    eventually(WITHIN * 3, "A replayed its queue", || async {
        let _ = a.get::<u64>(&CacheKey::new("probe", &0)).await;
        a_tier.health().queued_operations == 0
    })
    .await;
    for (name, cache) in [("A", &a), ("B", &b), ("C", &c)] {
        assert_eq!(
            read(cache, &key, &model, &calls).await,
            3,
            "{name} at the end"
        );
    }
}
