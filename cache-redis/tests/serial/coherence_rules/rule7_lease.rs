//! Rule 7: a lease holder that goes away (cancelled, or its loader panicked) releases its
//! lease, so nobody waits out the lease TTL: neither the next caller on its own node nor a
//! node polling for its value.
//!
//! The old design released the lease only after the loader returned; a dropped or panicking
//! holder left it in Redis until it expired, and every caller of the key, on every node,
//! polled for the whole `lease_ttl` (10 s here) before loading.

use std::time::{Duration, Instant};

use cache_core::{Cache, CacheKey, Options};
use cache_redis::test_support::RedisServer;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::common::{Calls, eventually, node, raw, tier};
use super::{SERIAL, WITHIN, bounded, opts};

/// Far longer than any bound below: a caller that waits it out fails the test.
const LEASE_TTL: Duration = Duration::from_secs(10);

fn lease_opts() -> Options {
    opts().lease_ttl(LEASE_TTL)
}

/// Starts a cold load on `cache` whose loader signals once it runs (the lease is held then)
/// and then waits for `go`: it panics if `panic`, else it never returns.
async fn holder(
    cache: &Cache,
    key: &CacheKey,
    panic: bool,
) -> (JoinHandle<Result<u64, ()>>, oneshot::Sender<()>) {
    let (started_tx, started_rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let task = {
        let (cache, key) = (cache.clone(), key.clone());
        tokio::spawn(async move {
            cache
                .get_or_load(&key, &lease_opts(), || async move {
                    started_tx.send(()).unwrap();
                    let _ = go_rx.await;
                    if panic {
                        panic!("the loader panics (on purpose)");
                    }
                    std::future::pending::<Result<u64, ()>>().await
                })
                .await
        })
    };
    bounded(WITHIN, "the holder's loader started", started_rx)
        .await
        .unwrap();
    (task, go_tx)
}

/// Starts `get_or_load` on another node and waits until it polls for the holder's value.
async fn waiter(cache: &Cache, key: &CacheKey, calls: &Calls) -> JoinHandle<Result<u64, ()>> {
    let task = {
        let (cache, key, calls) = (cache.clone(), key.clone(), calls.clone());
        tokio::spawn(async move {
            cache
                .get_or_load(&key, &lease_opts(), || async move {
                    calls.hit();
                    Ok::<u64, ()>(2)
                })
                .await
        })
    };
    eventually(WITHIN, "the waiter found the lease held", || async {
        cache.stats().lease_waits >= 1
    })
    .await;
    assert!(
        !task.is_finished(),
        "the waiter waits while the lease is held"
    );
    task
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_lease_holder_does_not_make_its_own_node_wait_out_the_lease() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let a = node(&tier(&server.url()).await);
    let key = CacheKey::new("cancelled", &1);
    let (holder, _go) = holder(&a, &key, false).await;
    holder.abort();
    assert!(holder.await.unwrap_err().is_cancelled());
    // The dropped holder released its lease (the next caller here could also take over its
    // own node's lease, so this is checked on Redis itself).
    let (url, remote_key) = (server.url(), a.remote_key(&key));
    eventually(
        WITHIN,
        "the cancelled holder's lease is deleted",
        || async {
            let exists: i64 = redis::cmd("EXISTS")
                .arg(&remote_key)
                .query_async(&mut raw(&url).await)
                .await
                .unwrap();
            exists == 0
        },
    )
    .await;

    let started = Instant::now();
    let calls = Calls::default();
    let got = bounded(
        WITHIN,
        "the next call on the holder's node",
        a.get_or_load(&key, &lease_opts(), || async {
            calls.hit();
            Ok::<u64, ()>(2)
        }),
    )
    .await;
    assert_eq!(got, Ok(2));
    assert_eq!(calls.get(), 1);
    assert!(started.elapsed() < WITHIN, "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_node_waiting_on_a_cancelled_holder_loads_once_the_lease_is_released() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let a = node(&tier(&server.url()).await);
    let b = node(&tier(&server.url()).await);
    let key = CacheKey::new("cancelled", &2);
    let (holder, _go) = holder(&a, &key, false).await;
    let calls = Calls::default();
    let waiting = waiter(&b, &key, &calls).await;

    let cancelled = Instant::now();
    holder.abort();
    let got = bounded(WITHIN, "B loads after A's lease is released", waiting)
        .await
        .unwrap();
    assert_eq!(got, Ok(2));
    assert_eq!(calls.get(), 1, "B ran its own load");
    assert!(cancelled.elapsed() < WITHIN, "{:?}", cancelled.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_loader_releases_its_lease() {
    let _serial = SERIAL.lock().await;
    let server = RedisServer::start();
    let a = node(&tier(&server.url()).await);
    let b = node(&tier(&server.url()).await);
    let key = CacheKey::new("panicked", &1);
    let (holder, go) = holder(&a, &key, true).await;
    let calls = Calls::default();
    let waiting = waiter(&b, &key, &calls).await;

    let panicked = Instant::now();
    go.send(()).unwrap();
    assert!(holder.await.unwrap_err().is_panic());
    let got = bounded(WITHIN, "B loads after A's loader panicked", waiting)
        .await
        .unwrap();
    assert_eq!(got, Ok(2));
    assert_eq!(calls.get(), 1);
    assert!(panicked.elapsed() < WITHIN, "{:?}", panicked.elapsed());
    // A's next call is answered at once too (B's fill is in Redis by now).
    let again = bounded(
        WITHIN,
        "A's next call",
        a.get_or_load(&key, &lease_opts(), || async { Ok::<u64, ()>(3) }),
    )
    .await;
    assert_eq!(again, Ok(2));
}
