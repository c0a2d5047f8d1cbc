//! Rules 1 and 3: a load that read the source before another node's invalidation (or `set`)
//! stores its result nowhere after it — not in Redis, not in its own local tier.

use cache_core::{CacheKey, Options};
use cache_redis::test_support::RedisServer;
use tokio::sync::oneshot;

use super::common::{Calls, node, raw, tier};
use super::{Model, SERIAL, WITHIN, bounded, opts, raw_value};

#[derive(Clone, Copy, Debug)]
enum Change {
    Invalidate,
    InvalidateTag,
    Set,
}

/// Node A's loader reads version 1 and blocks; node B bumps the model to 2 and applies
/// `change`; A's loader is released. A answers 1 (its read began before the change), but
/// nothing keeps it: A, B and a fresh node C all read 2 afterwards.
///
/// The old design stored a load's result with a plain `SET` (the lease lived under a key of
/// its own, untouched by B) and put it in A's local tier unconditionally: Redis and A then
/// served 1 until the TTL.
async fn slow_load_overlapping(change: Change) {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let url = server.url();
    let (a, b, c) = (
        node(&tier(&url).await),
        node(&tier(&url).await),
        node(&tier(&url).await),
    );
    let model = Model::new(1);
    let key = CacheKey::new("rule1", &1);
    let opts: Options = opts().tags(["t"]);

    let (read_tx, read_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let slow = {
        let (a, key, opts, model) = (a.clone(), key.clone(), opts.clone(), model.clone());
        tokio::spawn(async move {
            a.get_or_load(&key, &opts, || async move {
                let version = model.get();
                read_tx.send(()).unwrap();
                release_rx.await.unwrap();
                Ok::<u64, ()>(version)
            })
            .await
        })
    };
    bounded(WITHIN, "A's loader read the model", read_rx)
        .await
        .unwrap();

    model.set(2);
    match change {
        Change::Invalidate => b.invalidate(&key).await,
        Change::InvalidateTag => b.invalidate_tag("t").await,
        Change::Set => b.set(&key, &2_u64, &opts).await,
    }
    release_tx.send(()).unwrap();
    let answered = bounded(WITHIN, "A's slow load returned", slow)
        .await
        .unwrap();
    assert_eq!(
        answered,
        Ok(1),
        "{change:?}: A answers what its loader read"
    );
    assert!(
        a.stats().fenced_fills > 0,
        "{change:?}: A's fill was refused: {:?}",
        a.stats()
    );

    // Redis holds nothing (or B's 2), never A's 1.
    let remote_key = a.remote_key(&key);
    let held = raw_value(&mut raw(&url).await, &remote_key).await;
    let expected = match change {
        Change::Set => Some(2),
        Change::Invalidate | Change::InvalidateTag => None,
    };
    assert_eq!(
        held, expected,
        "{change:?}: what Redis holds after A's fill"
    );
    // Nor does A's local tier (`get` looks there first).
    assert_eq!(a.get::<u64>(&key).await, expected, "{change:?}: A's tiers");

    let calls = Calls::default();
    for (name, cache) in [("A", &a), ("B", &b), ("C", &c)] {
        let (calls, model) = (calls.clone(), model.clone());
        let got = cache
            .get_or_load(&key, &opts, || async move {
                calls.hit();
                Ok::<u64, ()>(model.get())
            })
            .await;
        assert_eq!(got, Ok(2), "{change:?}: node {name} reads the new version");
    }
    // After an invalidation the first reader (A) loads 2 and fills Redis; B and C hit it.
    // After B's `set`, Redis already holds 2: nobody loads.
    let loads = match change {
        Change::Set => 0,
        Change::Invalidate | Change::InvalidateTag => 1,
    };
    assert_eq!(calls.get(), loads, "{change:?}: loads after the change");
    assert_eq!(raw_value(&mut raw(&url).await, &remote_key).await, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_load_overlapping_an_invalidate_on_another_node_is_stored_nowhere() {
    slow_load_overlapping(Change::Invalidate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_load_overlapping_an_invalidate_tag_on_another_node_is_stored_nowhere() {
    slow_load_overlapping(Change::InvalidateTag).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_load_overlapping_a_set_on_another_node_is_stored_nowhere() {
    slow_load_overlapping(Change::Set).await;
}
