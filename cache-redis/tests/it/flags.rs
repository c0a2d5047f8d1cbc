//! Flags shared through a Redis hash: a change on one node applies on every node within 1 s.

use crate::common;

use std::time::Duration;

use cache_core::{Cache, CacheKey, FlagMode, FlagSource, Flags, LocalTier, Options};
use cache_redis::test_support::RedisServer;
use common::{eventually, raw, tier};

const WITHIN: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_published_on_one_node_switches_caching_on_every_node() {
    let server = RedisServer::start();
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let redis = tier(&server.url()).await;
        let flags = Flags::parse("*=on").unwrap();
        redis
            .flag_source("t:flags")
            .attach(flags.clone())
            .await
            .unwrap();
        let cache = Cache::builder()
            .namespace("t")
            .local(LocalTier::new(1 << 20))
            .remote(redis.clone())
            .flags(flags)
            .build();
        nodes.push((redis, cache));
    }
    let (a, b) = (&nodes[0], &nodes[1]);
    a.0.flag_source("t:flags")
        .publish("users=off, likes=25%")
        .await
        .unwrap();
    let took = eventually(WITHIN, "node b sees users=off", || async {
        b.1.flags().mode("users") == FlagMode::Off
    })
    .await;
    assert_eq!(b.1.flags().mode("likes"), FlagMode::Percent(25));
    assert_eq!(
        a.1.flags().mode("users"),
        FlagMode::Off,
        "the writer applies it too"
    );
    println!("flag change reached the other node in {took:?}");

    // Off means every call runs the loader on node b.
    let mut loads = 0;
    for _ in 0..3 {
        let _: Result<u8, ()> =
            b.1.get_or_load(&CacheKey::new("users", &1), &Options::new(), || async {
                loads += 1;
                Ok(1)
            })
            .await;
    }
    assert_eq!(loads, 3);

    a.0.flag_source("t:flags").remove("users").await.unwrap();
    eventually(WITHIN, "node b sees users back on", || async {
        b.1.flags().mode("users") == FlagMode::On
    })
    .await;
}

#[tokio::test]
async fn invalid_entries_in_the_hash_are_ignored_and_valid_ones_apply() {
    let server = RedisServer::start();
    let mut conn = raw(&server.url()).await;
    let _: () = redis::cmd("HSET")
        .arg("t:flags")
        .arg("chains")
        .arg("off")
        .arg("posts")
        .arg("sometimes")
        .query_async(&mut conn)
        .await
        .unwrap();
    let redis = tier(&server.url()).await;
    let flags = Flags::new();
    redis
        .flag_source("t:flags")
        .attach(flags.clone())
        .await
        .unwrap();
    assert_eq!(flags.mode("chains"), FlagMode::Off);
    assert_eq!(flags.mode("posts"), FlagMode::On);
    let source = redis.flag_source("t:flags");
    assert!(
        source.publish("posts=often").await.is_err(),
        "publish validates the spec"
    );
    assert_eq!(
        source.snapshot().await.unwrap(),
        vec![("chains".to_string(), FlagMode::Off)]
    );
}
