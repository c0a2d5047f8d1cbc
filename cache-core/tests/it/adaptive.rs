//! Adaptive entries: the loader's `Entry` decides TTL, stale window, tags, or "do not cache"
//! for its one value, in every tier, on cold loads and on refreshes alike.

use crate::common;

use std::time::{Duration, Instant};

use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, CacheKey, Codec, Entry, Options};
use common::{Calls, local_only, sleep_ms, with_remote};

const LONG: Duration = Duration::from_secs(600);

/// The cache stamps lifetimes with its own coarse clock, which may run a few ms apart from
/// the `SystemTime` these tests compare with.
const CLOCK_SLACK_MS: u64 = 1_000;

/// A loader that counts its calls and answers `entry`.
async fn answer(calls: &Calls, entry: Entry<String>) -> Result<Entry<String>, String> {
    calls.hit();
    Ok(entry)
}

/// The envelope's lifetimes in ms from now: (fresh for, stale until).
fn envelope_lifetimes(remote: &MemoryRemote, cache: &Cache, key: &CacheKey) -> (u64, u64) {
    let bytes = remote
        .raw(&cache.remote_key(key))
        .expect("the entry is in the remote tier");
    let meta = Codec::decode_meta(&bytes).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    (
        meta.fresh_until_ms.saturating_sub(now),
        meta.stale_until_ms.saturating_sub(now),
    )
}

#[tokio::test]
async fn the_entry_ttl_replaces_the_options_ttl_in_the_envelope_and_the_remote_ttl() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let opts = Options::new().ttl(LONG).stale(LONG);
    let (calls, key) = (Calls::default(), CacheKey::new("fx", &1));
    let entry = Entry::new("1.08".to_string()).ttl(Duration::from_secs(5));
    let got = cache
        .get_or_load_entry(&key, &opts, || answer(&calls, entry))
        .await;
    assert_eq!(got, Ok("1.08".to_string()));

    let (fresh, stale) = envelope_lifetimes(&remote, &cache, &key);
    assert!(
        fresh <= 5_000 + CLOCK_SLACK_MS,
        "fresh for {fresh} ms, not the options' 600 s"
    );
    assert!(fresh > 0);
    assert_eq!(
        stale,
        fresh + 600_000,
        "the options' stale window still applies"
    );
    let remote_ttl = remote.ttl_of(&cache.remote_key(&key)).unwrap();
    assert!(remote_ttl <= Duration::from_millis(605_000));

    // An entry that decides nothing is stored exactly as the options say.
    let plain = CacheKey::new("fx", &2);
    let entry = Entry::new("1.17".to_string());
    let got = cache.get_or_load_entry(&plain, &opts, || answer(&calls, entry));
    assert_eq!(got.await, Ok("1.17".to_string()));
    let (fresh, _) = envelope_lifetimes(&remote, &cache, &plain);
    assert!(
        fresh > 500_000,
        "the options' TTL with jitter, got {fresh} ms"
    );
}

#[tokio::test]
async fn the_entry_ttl_expires_the_local_tier_entry_while_the_options_ttl_is_long() {
    let cache = local_only();
    let opts = Options::new().ttl(LONG);
    let (calls, key) = (Calls::default(), CacheKey::new("token", &7));
    let short = || Entry::new("t".to_string()).ttl(Duration::from_millis(100));
    cache
        .get_or_load_entry(&key, &opts, || answer(&calls, short()))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while calls.get() < 2 {
        assert!(Instant::now() < deadline, "the short entry never expired");
        sleep_ms(20).await;
        cache
            .get_or_load_entry(&key, &opts, || answer(&calls, short()))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_skipped_entry_reaches_every_waiter_but_no_tier() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let (calls, arrived) = (Calls::default(), Calls::default());
    let key = CacheKey::new("search", &"partial");
    let callers = 8;
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (cache, key, calls, arrived) =
                (cache.clone(), key.clone(), calls.clone(), arrived.clone());
            tokio::spawn(async move {
                arrived.hit();
                let load = || async {
                    calls.hit();
                    // Every caller is in the flight before the loader answers.
                    arrived.reach(callers).await;
                    sleep_ms(50).await;
                    Ok::<_, String>(Entry::skip("partial".to_string()))
                };
                cache.get_or_load_entry(&key, &Options::new(), load).await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok("partial".to_string()));
    }
    assert_eq!(calls.get(), 1, "the waiters shared the one load");
    assert!(remote.keys().is_empty(), "nothing was written remotely");
    assert_eq!(cache.get::<String>(&key).await, None);

    let entry = Entry::new("full".to_string());
    let got = cache
        .get_or_load_entry(&key, &Options::new(), || answer(&calls, entry))
        .await;
    assert_eq!(got, Ok("full".to_string()));
    assert_eq!(calls.get(), 2, "the next call loaded again");
}

#[tokio::test]
async fn tags_from_the_entry_are_invalidated_with_invalidate_tag_here_and_remotely() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let other_node = with_remote(&remote.node());
    let opts = Options::new().tags(["store:1"]);
    let (calls, key) = (Calls::default(), CacheKey::new("price", &1));
    let tagged = || Entry::new("9.99".to_string()).tags(["sku:42"]);
    cache
        .get_or_load_entry(&key, &opts, || answer(&calls, tagged()))
        .await
        .unwrap();
    assert!(remote.raw(&cache.remote_key(&key)).is_some());
    other_node.invalidate_tag("sku:42").await;
    assert_eq!(
        remote.raw(&cache.remote_key(&key)),
        None,
        "the remote tier indexed the entry's tag"
    );
    cache.invalidate_tag("sku:42").await;
    cache
        .get_or_load_entry(&key, &opts, || answer(&calls, tagged()))
        .await
        .unwrap();
    assert_eq!(calls.get(), 2, "the entry's tag dropped it");

    cache.invalidate_tag("store:1").await;
    cache
        .get_or_load_entry(&key, &opts, || answer(&calls, tagged()))
        .await
        .unwrap();
    assert_eq!(calls.get(), 3, "the options' tag still applies");
}

#[tokio::test]
async fn the_entry_stale_window_serves_stale_when_the_refresh_fails() {
    let cache = local_only();
    let opts = Options::new().ttl(LONG);
    let (calls, kept, plain) = (
        Calls::default(),
        CacheKey::new("quote", &1),
        CacheKey::new("quote", &2),
    );
    let short = Duration::from_millis(50);
    let with_stale = || Entry::new("old".to_string()).ttl(short).stale(LONG);
    cache
        .get_or_load_entry(&kept, &opts, || answer(&calls, with_stale()))
        .await
        .unwrap();
    let without = || Entry::new("old".to_string()).ttl(short);
    cache
        .get_or_load_entry(&plain, &opts, || answer(&calls, without()))
        .await
        .unwrap();
    sleep_ms(200).await;
    let failing = || async { Err::<Entry<String>, _>("upstream down".to_string()) };
    assert_eq!(
        cache.get_or_load_entry(&kept, &opts, failing).await,
        Ok("old".to_string()),
        "served stale within the entry's stale window"
    );
    assert_eq!(
        cache.get_or_load_entry(&plain, &opts, failing).await,
        Err("upstream down".to_string()),
        "no stale window: the failure reaches the caller"
    );
}

#[tokio::test]
async fn a_refresh_stores_its_value_with_the_refreshed_decision() {
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let opts = Options::new().ttl(LONG).stale(LONG).early_refresh(false);
    let (calls, key) = (Calls::default(), CacheKey::new("rate", &1));
    let short = Entry::new("v1".to_string()).ttl(Duration::from_millis(50));
    cache
        .get_or_load_entry(&key, &opts, || answer(&calls, short))
        .await
        .unwrap();
    sleep_ms(200).await;
    let longer = Entry::new("v2".to_string()).ttl(Duration::from_secs(30));
    let got = cache.get_or_load_entry(&key, &opts, || answer(&calls, longer));
    assert_eq!(
        got.await,
        Ok("v2".to_string()),
        "the refresher gets the new value"
    );
    assert_eq!(calls.get(), 2);
    let (fresh, _) = envelope_lifetimes(&remote, &cache, &key);
    assert!(
        fresh > 20_000 && fresh <= 30_000 + CLOCK_SLACK_MS,
        "stored with the refresh's TTL: fresh for {fresh} ms"
    );
}

#[test]
fn the_sync_path_honours_skip_and_ttl() {
    let cache = local_only();
    let (calls, key) = (Calls::default(), CacheKey::new("parse", &1));
    let load = |entry: Entry<u8>| {
        calls.hit();
        Ok::<_, ()>(entry)
    };
    let opts = Options::new();
    assert_eq!(
        cache.get_or_load_entry_sync(&key, &opts, || load(Entry::skip(1))),
        Ok(1)
    );
    assert_eq!(
        cache.get_or_load_entry_sync(&key, &opts, || load(Entry::new(2))),
        Ok(2)
    );
    assert_eq!(
        cache.get_or_load_entry_sync(&key, &opts, || load(Entry::new(3))),
        Ok(2)
    );
    assert_eq!(
        calls.get(),
        2,
        "the skipped value was not cached, the next one was"
    );
}

#[tokio::test]
async fn shadow_mode_keeps_a_fresh_value_only_as_its_entry_decides() {
    let cache = local_only();
    cache.flags().set("shadowed", cache_core::FlagMode::Shadow);
    let opts = Options::new().ttl(LONG);
    let (calls, skipped) = (Calls::default(), CacheKey::new("shadowed", &1));
    let entry = Entry::skip("partial".to_string());
    let got = cache
        .get_or_load_entry(&skipped, &opts, || answer(&calls, entry))
        .await;
    assert_eq!(got, Ok("partial".to_string()));
    assert_eq!(
        cache.get::<String>(&skipped).await,
        None,
        "a skipped entry is not kept"
    );

    let kept = CacheKey::new("shadowed", &2);
    let entry = Entry::new("full".to_string());
    let got = cache
        .get_or_load_entry(&kept, &opts, || answer(&calls, entry))
        .await;
    assert_eq!(got, Ok("full".to_string()));
    assert_eq!(cache.get::<String>(&kept).await.as_deref(), Some("full"));
}
