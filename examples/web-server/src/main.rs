//! The example server. This first version only proves the wiring: a cache in front of a slow
//! "database" call, the request-scope layer, and a health route. The seeds' APIs arrive with
//! their own issue.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use cache_core::{Cache, CacheKey, Options, RequestScopeLayer};

#[derive(Clone)]
struct App {
    cache: Cache,
}

async fn greeting(State(app): State<App>, Path(name): Path<String>) -> Json<serde_json::Value> {
    let key = CacheKey::new("greeting", &name);
    let opts = Options::new().ttl(Duration::from_secs(60));
    let text: Result<String, String> = app
        .cache
        .get_or_load(&key, &opts, || async {
            tokio::time::sleep(Duration::from_millis(50)).await; // stands in for a query
            Ok(format!("hello, {name}"))
        })
        .await;
    Json(serde_json::json!({ "greeting": text.unwrap_or_default() }))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let bind: SocketAddr = std::env::var("BIND")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_string())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("BIND: {e}")))?;
    let app = App {
        cache: Cache::builder().namespace("web").build(),
    };
    let router = Router::new()
        .route("/hello/{name}", get(greeting))
        .route("/healthz", get(healthz))
        .layer(RequestScopeLayer::new())
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await
}
