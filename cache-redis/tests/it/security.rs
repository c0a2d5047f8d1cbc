//! Credentials never appear in Debug, Display, errors or logs; `rediss://` URLs are accepted.

use crate::common;

use std::time::Duration;

use cache_core::{CacheKey, Options, RemoteTier};
use cache_redis::test_support::{RedisServer, with_captured_logs};
use cache_redis::{RedisTier, RedisUrl};

const PASSWORD: &str = "s3cret-Pa55word";
const WRONG: &str = "wr0ng-Pa55word";

fn assert_hidden(text: &str) {
    assert!(!text.contains(PASSWORD), "password leaked: {text}");
    assert!(!text.contains(WRONG), "password leaked: {text}");
}

#[test]
fn passwords_never_appear_in_debug_display_errors_or_logs() {
    let server = RedisServer::start_with(&["--requirepass", PASSWORD]);
    let port = server.port();
    let logs = with_captured_logs(async {
        {
            let bad = format!("redis://default:{WRONG}@127.0.0.1:{port}/0");
            let error = RedisTier::connect(&bad).await.expect_err("wrong password");
            assert_hidden(&format!("{error} {error:?}"));
            let core: cache_core::Error = error.into();
            assert_hidden(&format!("{core} {core:?}"));

            let good = format!("redis://:{PASSWORD}@127.0.0.1:{port}/0");
            let builder = RedisTier::builder(&good).command_timeout(Duration::from_millis(200));
            assert_hidden(&format!("{builder:?}"));
            let tier = builder.connect().await.expect("right password");
            assert_hidden(&format!("{tier:?} {:?} {:?}", tier.config(), tier.health()));
            assert!(format!("{tier:?}").contains("***"));
            let cache = common::node(&tier);
            let key = CacheKey::new("secret-test", &1);
            let _: Result<u8, ()> = cache
                .get_or_load(&key, &Options::new(), || async { Ok(1) })
                .await;

            server.kill();
            let error = tier
                .get(&cache.remote_key(&key))
                .await
                .expect_err("server gone");
            assert_hidden(&format!("{error} {error:?}"));
            for _ in 0..6 {
                let _: Result<u8, ()> = cache
                    .get_or_load(
                        &key,
                        &Options::new().tiers(cache_core::Tiers::REMOTE),
                        || async { Ok(2) },
                    )
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_hidden(&format!("{tier:?}"));
        }
    });
    assert!(!logs.is_empty(), "the tier logged something");
    assert_hidden(&logs);
}

#[tokio::test]
async fn rediss_urls_parse_and_a_failed_handshake_is_an_error() {
    let url = RedisUrl::parse(&format!("rediss://app:{PASSWORD}@cache.internal:6380/1")).unwrap();
    assert!(url.is_tls());
    assert_eq!(url.to_string(), "rediss://app:***@cache.internal:6380/1");
    assert_hidden(&format!("{url:?}"));

    // A TLS client against a plain-text server: the handshake fails, cleanly and quickly.
    let server = RedisServer::start();
    let tls = format!("rediss://:{PASSWORD}@127.0.0.1:{}", server.port());
    let error = RedisTier::builder(&tls)
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
        .expect_err("no TLS on this port");
    assert_hidden(&format!("{error} {error:?}"));
}

#[test]
fn invalid_urls_are_rejected_without_echoing_the_password() {
    for bad in [
        format!("http://u:{PASSWORD}@host"),
        format!("redis://u:{PASSWORD}@host/db-name"),
    ] {
        let error = RedisTier::builder(&bad).config().expect_err("invalid");
        assert_hidden(&format!("{error} {error:?}"));
    }
}
