//! Failure and lifecycle: a cheap `/healthz`, request and connection-acquire deadlines that
//! answer 503 JSON, and (in `shutdown`) a graceful stop of the real binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::{Connection, SqliteConnection};
use web_server::db::SeedSize;
use web_server::{AppState, Config};

use crate::common::{AUTH_SECRET, Server, TOKEN, user_token};

/// A small seeded SQLite file of its own.
pub fn db_file(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "web-server-{tag}-{}-{nanos}.sqlite",
        std::process::id()
    ))
}

pub const SMALL_SEED: SeedSize = SeedSize {
    chains: 4,
    largest_chain: 60,
    posts: 5,
};

/// A server with the given deadlines, and its state (to count health pings).
async fn start(request_timeout: Duration, acquire_timeout: Duration) -> (Server, AppState) {
    let db_file = db_file("life");
    let config = Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        redis_url: None,
        database_url: format!("sqlite://{}?mode=rwc", db_file.display()),
        cache_flags: None,
        admin_token: Some(TOKEN.to_string()),
        auth_secret: Some(AUTH_SECRET.to_string()),
        demo_auth: false,
        warm: false,
        local_bytes: web_server::config::DEFAULT_LOCAL_BYTES,
        request_timeout,
        db_acquire_timeout: acquire_timeout,
        shutdown_grace: web_server::config::DEFAULT_SHUTDOWN_GRACE,
    };
    let state = AppState::build(&config, SMALL_SEED).await.expect("state");
    let listener = tokio::net::TcpListener::bind(config.bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = web_server::app::router_with_timeout(state.clone(), request_timeout);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let server = Server {
        base: format!("http://{addr}"),
        db_file,
        client: reqwest::Client::new(),
    };
    (server, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_pings_the_database_at_most_once_a_second() {
    let (server, state) = start(Duration::from_secs(10), Duration::from_secs(2)).await;
    let pings_before = state.db.health_pings();
    let started = Instant::now();
    let mut calls = 0;
    // Bursts of concurrent callers, then sequential ones, for a little over a second.
    while started.elapsed() < Duration::from_millis(1_200) {
        let burst: Vec<_> = (0..20)
            .map(|_| {
                let (client, url) = (server.client.clone(), format!("{}/healthz", server.base));
                async move { client.get(url).send().await.unwrap() }
            })
            .collect();
        for response in futures_join(burst).await {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["database"], "up");
            calls += 1;
        }
    }
    let pings = state.db.health_pings() - pings_before;
    let allowed = started.elapsed().as_secs() + 1;
    println!("healthz: {calls} calls, {pings} database pings");
    assert!(calls >= 100, "only {calls} calls");
    assert!(
        pings <= allowed,
        "{pings} pings for {calls} calls (at most {allowed})"
    );
}

/// Awaits every future, concurrently.
async fn futures_join<F: std::future::Future + Send + 'static>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// Holds SQLite's write lock on `db_file` until dropped (rolled back).
async fn lock_for_writes(db_file: &std::path::Path) -> SqliteConnection {
    let url = format!("sqlite://{}", db_file.display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

fn assert_unavailable(status: StatusCode, body: &Value, says: &str) {
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains(says), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_database_gets_503_json_within_the_deadlines() {
    let request_timeout = Duration::from_millis(1_500);
    let (server, _state) = start(request_timeout, Duration::from_millis(300)).await;
    assert_eq!(server.get("/stores/2").await.status(), StatusCode::OK);
    let _lock = lock_for_writes(&server.db_file).await;

    // Four writers wait on the lock (SQLite's busy timeout is 5 s), holding the pool's four
    // connections: the request deadline answers them.
    let started = Instant::now();
    let patches: Vec<_> = (1..=4)
        .map(|id| {
            let request = server
                .client
                .patch(format!("{}/stores/{id}", server.base))
                .bearer_auth(user_token(7))
                .json(&serde_json::json!({ "name": format!("stuck {id}") }));
            async move { request.send().await }
        })
        .collect();
    let patches = futures_join(patches);
    // Meanwhile readers find no free connection: the acquire deadline answers them, with the
    // last known version for a store seen before and 503 for one never seen.
    let reader = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let asked = Instant::now();
        let response = server.get("/stores/5").await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        let waited = asked.elapsed();
        let seen_before = server.get("/stores/2").await;
        (status, body, waited, seen_before)
    };
    let (patches, (status, body, waited, seen_before)) = tokio::join!(patches, reader);
    assert_unavailable(status, &body, "database unavailable");
    assert_eq!(seen_before.status(), StatusCode::OK);
    assert!(seen_before.headers().contains_key("warning"));
    assert!(
        waited < Duration::from_millis(1_200),
        "reader waited {waited:?}"
    );
    for response in patches {
        let response = response.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_unavailable(status, &body, "request timed out");
    }
    let took = started.elapsed();
    println!(
        "stuck database: 4 writers timed out, reader refused after {waited:?}; {took:?} in all"
    );
    assert!(
        took < request_timeout + Duration::from_secs(1),
        "took {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_down_versioned_routes_serve_the_last_version_marked_stale() {
    let (server, state) = start(Duration::from_secs(10), Duration::from_millis(300)).await;
    let list = server.get("/chains/1/stores").await;
    let etag = list.headers()["etag"].clone();
    let list = list.bytes().await.unwrap();
    let store = server.get("/stores/3").await.bytes().await.unwrap();

    state.db.close().await;

    let stale_list = server.get("/chains/1/stores").await;
    assert_eq!(stale_list.status(), StatusCode::OK);
    assert_eq!(
        stale_list.headers()["warning"],
        "110 - \"Response is Stale\""
    );
    assert!(stale_list.headers().contains_key("age"));
    assert_eq!(stale_list.headers()["etag"], etag);
    assert_eq!(stale_list.bytes().await.unwrap(), list);
    let stale_store = server.get("/stores/3").await;
    assert_eq!(stale_store.status(), StatusCode::OK);
    assert_eq!(
        stale_store.headers()["warning"],
        "110 - \"Response is Stale\""
    );
    assert_eq!(stale_store.bytes().await.unwrap(), store);

    // Never seen: nothing to fall back on, so 503 JSON rather than 500.
    let unseen = server.get("/chains/2/stores").await;
    let status = unseen.status();
    let body: Value = unseen.json().await.unwrap();
    assert_unavailable(status, &body, "database unavailable");

    // Once the cached probe expires, /healthz says the database is down and what is served.
    tokio::time::sleep(web_server::db::PROBE_EVERY).await;
    let health: Value = server.get("/healthz").await.json().await.unwrap();
    println!("database down: {health}");
    assert_eq!(health["database"], "down");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["stale_served"], 2);
    assert!(
        health["database_fallback"]
            .as_str()
            .unwrap()
            .contains("stale")
    );
}
