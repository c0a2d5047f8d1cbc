//! Redis going away and coming back: the breaker, fail-safe loads, replay of queued writes and
//! invalidations.

use crate::common;

use std::time::{Duration, Instant};

use cache_core::{CacheKey, Options};
use cache_redis::test_support::RedisServer;
use cache_redis::{BreakerState, RedisTier};
use common::{eventually, node, raw, remote_only};

const WITHIN: Duration = Duration::from_secs(2);

fn opts() -> Options {
    Options::new().ttl(Duration::from_secs(600))
}

/// Default command timeout; a short cool-down so recovery is quick to observe.
async fn tier(url: &str) -> RedisTier {
    RedisTier::builder(url)
        .breaker_cooldown(Duration::from_millis(300))
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_get_loader_values_while_redis_is_down_and_hits_resume_after_restart() {
    let server = RedisServer::start();
    let redis = tier(&server.url()).await;
    let cache = remote_only(&redis);
    server.kill();
    let until = Instant::now() + Duration::from_secs(5);
    let tasks: Vec<_> = (0..8_u64)
        .map(|t| {
            let cache = cache.clone();
            tokio::spawn(async move {
                let mut calls = 0;
                while Instant::now() < until {
                    let i = t * 1000 + calls % 20;
                    let key = CacheKey::new("down", &i);
                    let got: Result<u64, ()> = cache
                        .get_or_load(&key, &opts(), || async move {
                            tokio::time::sleep(Duration::from_millis(2)).await;
                            Ok(i)
                        })
                        .await;
                    assert_eq!(got, Ok(i), "every call returns the loader's value");
                    calls += 1;
                }
                calls
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    assert!(total > 100, "the loop kept going ({total} calls)");
    let state = redis.health().state;
    assert!(
        matches!(state, BreakerState::BreakerOpen | BreakerState::Probing),
        "{state:?}"
    );
    assert!(redis.stats().breaker_opened >= 1);
    assert!(
        redis.stats().fail_fast > 0,
        "most calls skipped the network"
    );

    server.restart();
    let key = CacheKey::new("back", &1);
    let hits_before = cache.stats().remote_hits;
    let took = eventually(WITHIN, "the tier serves hits again", || async {
        let _: Result<u8, ()> = cache.get_or_load(&key, &opts(), || async { Ok(1) }).await;
        cache.stats().remote_hits > hits_before
    })
    .await;
    assert_eq!(
        redis.health().state,
        BreakerState::Up,
        "recovered in {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_made_during_an_outage_reaches_the_other_nodes() {
    let server = RedisServer::start();
    let (a_tier, b_tier) = (tier(&server.url()).await, tier(&server.url()).await);
    let (a, b) = (node(&a_tier), node(&b_tier));
    let key = CacheKey::new("price", &9);
    for n in [&a, &b] {
        let _: Result<u32, ()> = n.get_or_load(&key, &opts(), || async { Ok(100) }).await;
    }
    assert_eq!(b.stats().remote_hits, 1, "b has the old value in L1 and L2");

    server.kill();
    a.invalidate(&key).await;
    assert!(
        a_tier.health().queued_operations >= 1,
        "the delete and its announcement wait"
    );
    server.restart();

    eventually(WITHIN, "b serves the new value", || async {
        let got: Result<u32, ()> = b.get_or_load(&key, &opts(), || async { Ok(200) }).await;
        got == Ok(200)
    })
    .await;
    eventually(WITHIN, "a replayed its queue", || async {
        a_tier.health().queued_operations == 0
    })
    .await;
    assert!(a_tier.stats().replayed >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_made_during_an_outage_is_replayed_as_a_delete() {
    // Rule 4: by the time Redis answers again another node may have changed the key, so the
    // write is not replayed (it could bring an old value back); its key is deleted instead.
    let server = RedisServer::start();
    let redis = tier(&server.url()).await;
    let cache = node(&redis);
    server.kill();
    let key = CacheKey::new("written-while-down", &1);
    cache
        .set(&key, &"fresh".to_string(), &opts().tags(["t1"]))
        .await;
    assert!(redis.health().queued_operations >= 1);
    server.restart();
    eventually(WITHIN, "the queue is replayed", || async {
        redis.stats().replayed >= 1 && redis.health().queued_operations == 0
    })
    .await;
    let remote_key = cache.remote_key(&key);
    let mut conn = raw(&server.url()).await;
    let exists: bool = redis::cmd("EXISTS")
        .arg(&remote_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!exists, "replayed as a delete, not as the write");
    // The writer's own copy went with the local tier when its backplane subscribed again.
    let other = remote_only(&tier(&server.url()).await);
    assert_eq!(other.get::<String>(&key).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_pending_waits_for_the_replay_and_is_bounded_while_redis_is_down() {
    // A graceful shutdown calls `replay_pending`: it must return once the queued changes are
    // in Redis and announced, and must not hang while Redis is still unreachable.
    let server = RedisServer::start();
    let redis = tier(&server.url()).await;
    let cache = node(&redis);
    let key = CacheKey::new("drained-at-shutdown", &1);
    let _: Result<u32, ()> = cache.get_or_load(&key, &opts(), || async { Ok(1) }).await;
    let remote_key = cache.remote_key(&key);

    server.pause();
    cache.invalidate(&key).await;
    assert!(redis.health().queued_operations >= 1, "the delete waits");
    let started = Instant::now();
    let left = redis.replay_pending(Duration::from_millis(300)).await;
    assert!(left >= 1, "nothing can be replayed while Redis is paused");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "bounded by its limit, not by the outage"
    );

    server.resume();
    assert_eq!(redis.replay_pending(Duration::from_secs(10)).await, 0);
    let mut conn = raw(&server.url()).await;
    let exists: bool = redis::cmd("EXISTS")
        .arg(&remote_key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        !exists,
        "the queued delete reached Redis before replay_pending returned 0"
    );
}
