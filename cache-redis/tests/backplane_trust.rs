//! Rule 2 of the coherence contract: while a node's backplane subscription is down, it trusts
//! its local entries only for `backplane_trust`, then drops them (and again every period until
//! the subscription is back), because invalidations published meanwhile never reach it.

mod common;

use std::time::{Duration, Instant};

use cache_core::{Cache, CacheKey, LocalTier, Options};
use cache_redis::RedisTier;
use cache_redis::test_support::RedisServer;
use common::eventually;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_subscription_is_down_drops_its_local_tier_within_the_trust_period() {
    let server = RedisServer::start();
    let trust = Duration::from_millis(400);
    let tier = RedisTier::builder(&server.url())
        .command_timeout(Duration::from_millis(200))
        .connect_timeout(Duration::from_millis(300))
        .backplane_trust(trust)
        .connect()
        .await
        .unwrap();
    let cache = Cache::builder()
        .namespace("t")
        .local(LocalTier::new(1 << 20))
        .remote(tier.clone())
        .build();
    let opts = Options::new().ttl(Duration::from_secs(600));
    for i in 0..10 {
        let _: Result<u32, ()> = cache
            .get_or_load(&CacheKey::new("k", &i), &opts, || async move { Ok(i) })
            .await;
    }
    let local = cache.local().unwrap().clone();
    local.run_pending_tasks();
    assert_eq!(local.entry_count(), 10);
    assert!(tier.health().backplane_connected);

    // Frozen: the subscription neither errs nor answers; only its ping notices.
    server.pause();
    let paused = Instant::now();
    let cleared = eventually(Duration::from_secs(5), "local tier dropped", || {
        let local = local.clone();
        async move {
            local.run_pending_tasks();
            local.entry_count() == 0
        }
    })
    .await;
    assert!(tier.stats().untrusted_clears >= 1, "{:?}", tier.stats());
    assert!(!tier.health().backplane_connected);
    // While it stays down, entries written locally meanwhile are dropped again each period.
    let key = CacheKey::new("during", &1);
    cache.set(&key, &7_u32, &opts).await;
    let clears = tier.stats().untrusted_clears;
    eventually(Duration::from_secs(5), "dropped again", || async {
        tier.stats().untrusted_clears > clears
    })
    .await;
    local.run_pending_tasks();
    assert!(local.entry_count() == 0);
    server.resume();
    eventually(Duration::from_secs(5), "subscribed again", || async {
        tier.health().backplane_connected
    })
    .await;
    println!(
        "trust {trust:?}: local tier dropped {cleared:?} after the pause (documented bound: \
         1.75 x trust + connect timeout = {:?}); paused {:?} in all",
        trust * 7 / 4 + Duration::from_millis(300),
        paused.elapsed()
    );
}
