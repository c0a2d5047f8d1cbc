//! Credentials never appear in Debug, Display, errors or logs, write-back included.

use std::time::Duration;

use cache_core::{CacheKey, Options, RemoteTier};
use cache_redis::RedisTier;
use cache_redis::test_support::{RedisServer, with_captured_logs};
use cache_writeback::{Batch, Sink, SinkError, WriteBack};

use crate::common;

/// The ACL user's password in the full-run test below.
const ACL_PASSWORD: &str = "s3cret";

fn assert_no_acl_password(text: &str) {
    assert!(!text.contains(ACL_PASSWORD), "password leaked: {text}");
}

/// `redis://app:s3cret@…` through a representative run: a refused login, connect, the engine,
/// write-back, the server killed (errors, breaker), restarted (recovery, replay, lost
/// write-back state): `s3cret` appears in no Debug, Display, error or log line.
#[test]
fn acl_credentials_never_leak_through_an_outage_and_a_restart() {
    let server = RedisServer::start_with(&[
        "--user", "app", "on", ">s3cret", "~*", "&*", "+@all", "--user", "default", "off",
    ]);
    let port = server.port();
    let mut shown = String::new();
    let logs = with_captured_logs(async {
        {
            let wrong = format!("redis://app:{ACL_PASSWORD}x@127.0.0.1:{port}/0");
            let error = RedisTier::connect(&wrong)
                .await
                .expect_err("wrong password");
            shown += &format!("{error} {error:?}\n");

            let url = format!("redis://app:{ACL_PASSWORD}@127.0.0.1:{port}/0");
            let builder = RedisTier::builder(&url)
                .command_timeout(Duration::from_millis(200))
                .breaker_cooldown(Duration::from_millis(200));
            shown += &format!("{builder:?}\n");
            let tier = builder.connect().await.expect("right password");
            let cache = common::node(&tier);
            let likes = WriteBack::builder(&tier, "likes").build().unwrap();
            let opts = Options::new().tags(["t"]);
            let key = CacheKey::new("acl", &1);
            let load = || async { Ok::<u8, ()>(1) };
            let _ = cache.get_or_load(&key, &opts, load).await;
            cache.set(&CacheKey::new("acl", &2), &2_u8, &opts).await;
            cache.invalidate_tag("t").await;
            likes.incr("post:1", "likes", 1).await.unwrap();
            shown += &format!("{tier:?} {:?} {likes:?}\n", tier.config());

            server.kill();
            let remote = Options::new().tiers(cache_core::Tiers::REMOTE);
            for i in 0..8 {
                let key = CacheKey::new("acl", &(10 + i));
                let _ = cache.get_or_load(&key, &remote, load).await;
                cache.invalidate(&key).await;
            }
            let error = tier.get("acl").await.expect_err("server gone");
            shown += &format!("{error} {error:?}\n");
            let error = likes
                .incr("post:1", "likes", 1)
                .await
                .expect_err("server gone");
            shown += &format!("{error} {error:?}\n");
            let sink = TestSinkNoop;
            let _ = likes.flush_now(&sink).await;
            shown += &format!("{:?} {:?} {tier:?}\n", tier.health(), tier.stats());

            server.restart();
            let started = std::time::Instant::now();
            while likes.incr("post:1", "likes", 1).await.is_err() {
                assert!(started.elapsed() < Duration::from_secs(5), "Redis is back");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(
                likes.generation(),
                1,
                "the lost write-back state was detected"
            );
            let _ = cache.get_or_load(&key, &remote, load).await;
            let _ = likes.drain(&sink, Duration::from_secs(2)).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            shown += &format!("{tier:?} {likes:?}\n");
        }
    });
    assert!(
        logs.contains("circuit breaker open"),
        "the breaker opened:\n{logs}"
    );
    assert!(logs.contains("write-back state was recreated"), "{logs}");
    assert!(shown.contains("***"), "URLs are shown redacted");
    assert_no_acl_password(&shown);
    assert_no_acl_password(&logs);
}

/// A sink that accepts everything.
struct TestSinkNoop;

#[async_trait::async_trait]
impl Sink for TestSinkNoop {
    async fn write(&self, _batch: &Batch) -> Result<(), SinkError> {
        Ok(())
    }
}
