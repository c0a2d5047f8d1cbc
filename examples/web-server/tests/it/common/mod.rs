//! A server started in-process on a free loopback port with its own SQLite file.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use web_server::db::SeedSize;
use web_server::{AppState, Config, router};

pub const TOKEN: &str = "test-admin-token";
/// Every test server signs user tokens with this, so tests (and nodes sharing Redis) agree.
pub const AUTH_SECRET: &str = "test-auth-secret-of-at-least-32-bytes";

/// A signer with the test servers' secret, for tokens the demo route would not mint.
pub fn signer() -> web_server::auth::TokenAuth {
    web_server::auth::TokenAuth::new(AUTH_SECRET.as_bytes(), false).unwrap()
}

/// A valid token for `user_id` (one hour).
pub fn user_token(user_id: i64) -> String {
    signer().mint(user_id, 3_600).0
}

pub struct Server {
    pub base: String,
    pub db_file: PathBuf,
    pub client: reqwest::Client,
}

impl Server {
    /// `GET path` with the admin token, as JSON.
    pub async fn admin_json(&self, path: &str) -> serde_json::Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        response.send().await.unwrap().json().await.unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db_file.display()));
        }
    }
}

pub async fn start(flags: Option<&str>) -> Server {
    start_with(flags, None, None).await
}

/// A server with its own database file, or sharing `db_file` and Redis with another server.
pub async fn start_with(
    flags: Option<&str>,
    redis_url: Option<String>,
    db_file: Option<PathBuf>,
) -> Server {
    start_configured(flags, redis_url, db_file, |_| ()).await
}

/// Like `start_with`, with a last say over the configuration.
pub async fn start_configured(
    flags: Option<&str>,
    redis_url: Option<String>,
    db_file: Option<PathBuf>,
    configure: impl FnOnce(&mut Config),
) -> Server {
    let db_file = db_file.unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "web-server-test-{}-{}.sqlite",
            std::process::id(),
            fastrand_suffix()
        ))
    });
    let mut config = Config {
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        redis_url,
        database_url: format!("sqlite://{}?mode=rwc", db_file.display()),
        cache_flags: flags.map(str::to_string),
        admin_token: Some(TOKEN.to_string()),
        auth_secret: Some(AUTH_SECRET.to_string()),
        demo_auth: true,
        warm: false,
        local_bytes: web_server::config::DEFAULT_LOCAL_BYTES,
        request_timeout: web_server::config::DEFAULT_REQUEST_TIMEOUT,
        db_acquire_timeout: web_server::db::DEFAULT_ACQUIRE_TIMEOUT,
        shutdown_grace: web_server::config::DEFAULT_SHUTDOWN_GRACE,
    };
    configure(&mut config);
    let seed = SeedSize {
        chains: 4,
        largest_chain: 60,
        posts: 5,
    };
    let state = AppState::build(&config, seed).await.expect("server state");
    let listener = tokio::net::TcpListener::bind(config.bind).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    Server {
        base: format!("http://{addr}"),
        db_file,
        client: reqwest::Client::new(),
    }
}

fn fastrand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Server {
    /// Likes `post` as the bearer of `token` in a task of its own (for bursts of concurrent
    /// likes); the task yields the response status.
    pub fn spawn_like(
        &self,
        post: i64,
        token: &str,
    ) -> tokio::task::JoinHandle<reqwest::Result<reqwest::StatusCode>> {
        let request = self
            .client
            .post(format!("{}/posts/{post}/like", self.base))
            .bearer_auth(token);
        tokio::spawn(async move { request.send().await.map(|r| r.status()) })
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// The value of a Prometheus series on `/metrics` whose labels include all of `labels`.
    pub async fn metric(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let text = self.get("/metrics").await.text().await.unwrap();
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter(|l| {
                labels
                    .iter()
                    .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
            })
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum()
    }

    pub async fn loads(&self, cache: &str) -> f64 {
        self.metric(
            "cache_load_duration_seconds_count",
            &[("cache_name", cache)],
        )
        .await
    }
}
