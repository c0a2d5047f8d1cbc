//! Error replies that mean "not now" (`READONLY`, `BUSY`, `MASTERDOWN`) are outages: an
//! invalidation that meets one is queued and replayed, so the stale entry does not survive.
//! `NOPERM` is a configuration error: `connect` refuses to start and names the command.

use crate::common;

use std::time::Duration;

use cache_core::{CacheKey, Options, RemoteTier};
use cache_redis::test_support::RedisServer;
use cache_redis::{BreakerState, Error, RedisTier};
use common::{eventually, node};

const WITHIN: Duration = Duration::from_secs(10);

fn opts() -> Options {
    Options::new().ttl(Duration::from_secs(600))
}

/// The test builder's roomy timeout, and a short cool-down: the replay's probes may open the
/// breaker while the server refuses, and recovery should not wait the default 2 s.
async fn tier(url: &str) -> RedisTier {
    common::builder(url)
        .breaker_cooldown(Duration::from_millis(200))
        .connect()
        .await
        .expect("connect to the test server")
}

/// Sends a command to `server` and panics on an error reply.
fn admin(server: &RedisServer, args: &[&str]) -> String {
    let reply = server.query(args).expect("the server answers");
    assert!(!reply.starts_with('-'), "{args:?}: {reply}");
    reply
}

/// Whether `key` exists on `server` (asked without the tier).
fn exists(server: &RedisServer, key: &str) -> bool {
    admin(server, &["EXISTS", key]) == "1"
}

/// A directory removed on drop (declared before the servers using it, so dropped after them).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "cache-redis-{name}-{}-{:x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits until `server` is a replica with an established link to its master.
async fn linked(server: &RedisServer) {
    eventually(WITHIN, "the replica is in sync", || async {
        admin(server, &["INFO", "replication"]).contains("master_link_status:up")
    })
    .await;
}

/// A failover seen from the old primary: the tier keeps its connection to `old`, which is
/// demoted to a replica of `new` (holding the same entry, as replication would have it). The
/// invalidation meets `READONLY`, is queued, and is replayed once `old` is primary again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_refused_with_readonly_is_replayed_after_the_failover() {
    // A full sync stores the data set in the working directory: keep it out of the crate.
    let dir = TempDir::new("readonly");
    let args = ["--dir", dir.0.to_str().unwrap()];
    let (old, new) = (
        RedisServer::start_with(&args),
        RedisServer::start_with(&args),
    );
    let redis = tier(&old.url()).await;
    let cache = node(&redis);
    let key = CacheKey::new("price", &1);
    let _: Result<u32, ()> = cache.get_or_load(&key, &opts(), || async { Ok(100) }).await;
    let remote_key = cache.remote_key(&key);

    // `new` copies `old`, becomes primary, and `old` follows it: both hold the entry.
    let (old_port, new_port) = (old.port().to_string(), new.port().to_string());
    admin(&new, &["REPLICAOF", "127.0.0.1", &old_port]);
    linked(&new).await;
    admin(&new, &["REPLICAOF", "NO", "ONE"]);
    admin(&old, &["REPLICAOF", "127.0.0.1", &new_port]);
    linked(&old).await;
    assert!(exists(&old, &remote_key), "the entry was replicated back");

    cache.invalidate(&key).await;
    let stats = redis.stats();
    assert!(stats.unavailable_replies >= 1, "{stats:?}");
    assert!(
        stats.queued >= 1,
        "the refused UNLINK was queued: {stats:?}"
    );
    assert!(stats.readonly_reconnects >= 1, "{stats:?}");
    assert!(
        exists(&old, &remote_key),
        "still stale while old is a replica"
    );

    admin(&old, &["REPLICAOF", "NO", "ONE"]);
    eventually(WITHIN, "the queued UNLINK is replayed", || async {
        redis.health().queued_operations == 0 && !exists(&old, &remote_key)
    })
    .await;
    assert!(redis.stats().replayed >= 1);
    let got: Result<u32, ()> = cache.get_or_load(&key, &opts(), || async { Ok(200) }).await;
    assert_eq!(got, Ok(200), "the stale value is gone everywhere");
}

/// A long Lua script makes the server answer `BUSY` to everyone else; an invalidation made
/// meanwhile is queued and lands after `SCRIPT KILL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_refused_with_busy_is_replayed_after_the_script_ends() {
    let server = RedisServer::start();
    let redis = tier(&server.url()).await;
    let cache = node(&redis);
    let key = CacheKey::new("price", &2);
    let _: Result<u32, ()> = cache.get_or_load(&key, &opts(), || async { Ok(100) }).await;
    let remote_key = cache.remote_key(&key);

    admin(&server, &["CONFIG", "SET", "busy-reply-threshold", "50"]);
    let port = server.port();
    let script = std::thread::spawn(move || {
        let _ = raw_command(port, &["EVAL", "while true do end", "0"]);
    });
    eventually(WITHIN, "the server answers BUSY", || async {
        server
            .query(&["PING"])
            .is_ok_and(|reply| reply.starts_with("-BUSY"))
    })
    .await;

    cache.invalidate(&key).await;
    let stats = redis.stats();
    assert!(stats.unavailable_replies >= 1, "{stats:?}");
    assert!(
        stats.queued >= 1,
        "the refused UNLINK was queued: {stats:?}"
    );
    assert_eq!(stats.readonly_reconnects, 0);
    let state = redis.health().state;
    assert_ne!(state, BreakerState::Up, "BUSY counts as a breaker failure");

    admin(&server, &["SCRIPT", "KILL"]);
    script.join().unwrap();
    eventually(WITHIN, "the queued UNLINK is replayed", || async {
        redis.health().queued_operations == 0 && !exists(&server, &remote_key)
    })
    .await;
    assert!(redis.stats().replayed >= 1);
}

/// A replica that must not serve stale data answers `MASTERDOWN` while its master is gone (to
/// reads; writes meet `READONLY` first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_refused_with_masterdown_is_replayed_once_the_server_serves_again() {
    let server = RedisServer::start_with(&["--replica-serve-stale-data", "no"]);
    let redis = tier(&server.url()).await;
    let cache = node(&redis);
    let key = CacheKey::new("price", &3);
    let _: Result<u32, ()> = cache.get_or_load(&key, &opts(), || async { Ok(100) }).await;
    let remote_key = cache.remote_key(&key);

    // A master nobody listens on: the link stays down and the data set stays as it is.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let gone_port = gone.local_addr().unwrap().port().to_string();
    drop(gone);
    admin(&server, &["REPLICAOF", "127.0.0.1", &gone_port]);
    eventually(WITHIN, "the server answers MASTERDOWN", || async {
        server
            .query(&["PING"])
            .is_ok_and(|reply| reply.starts_with("-MASTERDOWN"))
    })
    .await;

    let error = RemoteTier::get(&redis, &remote_key)
        .await
        .expect_err("MASTERDOWN");
    assert!(error.to_string().contains("MASTERDOWN"), "{error}");
    assert_eq!(redis.stats().unavailable_replies, 1);
    assert_eq!(
        redis.health().state,
        BreakerState::Degraded,
        "a breaker failure"
    );

    cache.invalidate(&key).await;
    let stats = redis.stats();
    assert!(stats.unavailable_replies >= 2, "{stats:?}");
    assert!(
        stats.queued >= 1,
        "the refused UNLINK was queued: {stats:?}"
    );

    admin(&server, &["REPLICAOF", "NO", "ONE"]);
    eventually(WITHIN, "the queued UNLINK is replayed", || async {
        redis.health().queued_operations == 0 && !exists(&server, &remote_key)
    })
    .await;
}

/// A user without `unlink`: `connect` fails, naming the command, without the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_a_needed_permission_cannot_connect() {
    let server = RedisServer::start_with(&[
        "--user",
        "limited",
        "on",
        ">pr0be-pw",
        "~*",
        "&*",
        "+@all",
        "-unlink",
    ]);
    let url = format!("redis://limited:pr0be-pw@127.0.0.1:{}", server.port());
    let error = common::builder(&url)
        .connect()
        .await
        .expect_err("UNLINK is refused");
    let shown = format!("{error} {error:?}");
    assert!(matches!(error, Error::Permission(_)), "{shown}");
    assert!(
        shown.contains("UNLINK lease:__permission_probe__"),
        "{shown}"
    );
    assert!(shown.contains("NOPERM"), "{shown}");
    assert!(
        !shown.contains("SET lease"),
        "only refused commands: {shown}"
    );
    assert!(!shown.contains("pr0be-pw"), "{shown}");
    let core: cache_core::Error = error.into();
    assert!(core.to_string().contains("permission"), "{core}");
}

/// Channel permissions (`&pattern`) are checked too: no `&*`, no `PUBLISH`/`SUBSCRIBE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_the_backplane_channel_cannot_connect() {
    let server = RedisServer::start_with(&[
        "--user",
        "nochan",
        "on",
        ">pw",
        "~*",
        "resetchannels",
        "+@all",
    ]);
    let url = format!("redis://nochan:pw@127.0.0.1:{}", server.port());
    let error = common::builder(&url)
        .connect()
        .await
        .expect_err("the channel is refused");
    let shown = error.to_string();
    assert!(shown.contains("PUBLISH cache:invalidate"), "{shown}");
    assert!(shown.contains("SUBSCRIBE cache:invalidate"), "{shown}");
}

/// A permission revoked while running: the refused invalidation is an error the engine sees,
/// counted, not queued (it would fail again), and Redis stays "up".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_revoked_at_run_time_is_counted_and_not_queued() {
    let server = RedisServer::start_with(&["--user", "app", "on", ">pw", "~*", "&*", "+@all"]);
    let url = format!("redis://app:pw@127.0.0.1:{}", server.port());
    let redis = tier(&url).await;
    let cache = node(&redis);
    let key = CacheKey::new("price", &4);
    cache.set(&key, &1_u32, &opts()).await;

    admin(&server, &["ACL", "SETUSER", "app", "-unlink"]);
    cache.invalidate(&key).await;
    let stats = redis.stats();
    assert!(stats.permission_errors >= 1, "{stats:?}");
    assert_eq!(
        stats.queued, 0,
        "a refused command is not replayed: {stats:?}"
    );
    assert_eq!(redis.health().state, BreakerState::Up);
    let error = RemoteTier::delete(&redis, "t:other")
        .await
        .expect_err("UNLINK is refused");
    assert!(error.to_string().contains("NOPERM"), "{error}");
}

/// One command on a plain TCP connection; the reply's first bytes. (`RedisServer::query` gives
/// up after 2 s, before the script is killed.)
fn raw_command(port: u16, args: &[&str]) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut frame = format!("*{}\r\n", args.len());
    for arg in args {
        frame.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(frame.as_bytes())?;
    let mut reply = [0_u8; 256];
    let n = stream.read(&mut reply)?;
    Ok(String::from_utf8_lossy(&reply[..n]).into_owned())
}
