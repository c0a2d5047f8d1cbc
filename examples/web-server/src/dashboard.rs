//! The live cache dashboard and admin API (`cache-admin`), mounted at [`MOUNT`] behind the
//! admin token, and the landing page at `/` that links it.

use std::time::Duration;

use axum::response::{Html, Redirect};
use cache_admin::{Admin, BearerToken, HealthReport, HealthSource};
use cache_writeback::WriteBack;

use crate::likes::Likes;
use crate::state::AppState;

/// Where the dashboard is mounted.
pub const MOUNT: &str = "/admin/cache";

/// A backlog older than this is worth a look: the flusher runs every second.
const BACKLOG_AGE_WARNING: Duration = Duration::from_secs(30);

/// The admin router's view of this server: its cache, the admin token, and with Redis the
/// tier's health, the likes buffer's backlog and flag changes shared with every node.
pub fn admin(state: &AppState) -> Admin {
    let token = BearerToken::new(&state.admin_token);
    let mut admin = Admin::new(state.cache.clone(), move |parts| {
        token.accepts(&parts.headers)
    });
    if let Some(redis) = &state.redis {
        admin = admin.health_source(redis.clone());
    }
    if let Some(shared) = &state.shared_flags {
        admin = admin.flag_publisher(shared.clone());
    }
    if let Likes::WriteBack { buffer, .. } = &state.likes {
        admin = admin.health_source(LikesBacklog(buffer.clone()));
    }
    admin
}

/// The likes write-back buffer's backlog, read from Redis.
struct LikesBacklog(WriteBack);

#[async_trait::async_trait]
impl HealthSource for LikesBacklog {
    fn name(&self) -> &str {
        "likes write-back"
    }

    async fn check(&self) -> HealthReport {
        match self.0.backlog().await {
            Ok(backlog) => {
                let age = backlog.oldest_pending_age;
                let report = HealthReport::ok()
                    .detail("pending_entities", backlog.pending_entities)
                    .detail("inflight_batches", backlog.inflight_batches)
                    .detail("oldest_pending_ms", age.as_millis() as u64);
                if age > BACKLOG_AGE_WARNING {
                    report.finding(format!(
                        "likes have waited {}s for the database: is the flusher's sink failing?",
                        age.as_secs()
                    ))
                } else {
                    report
                }
            }
            Err(error) => {
                HealthReport::ok().finding(format!("reading the backlog failed: {error}"))
            }
        }
    }
}

/// `GET /admin/cache/` (with the slash) goes to the page, which axum serves at the mount point.
pub async fn to_dashboard() -> Redirect {
    Redirect::permanent(MOUNT)
}

/// `GET /`: what this server offers.
pub async fn landing() -> Html<&'static str> {
    Html(LANDING)
}

const LANDING: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>web-server: a cached API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330}
code{background:#f2f4f7;padding:0 .25rem}li{margin:.2rem 0}</style></head>
<body>
<h1>web-server</h1>
<p>An example API cached across request, local and (with <code>REDIS_URL</code>) Redis tiers.</p>
<p><strong><a href="/admin/cache">Open the live cache dashboard</a></strong> (asks for the admin token).</p>
<h2>Routes</h2>
<ul>
<li><code>GET <a href="/chains/1/stores">/chains/{id}/stores</a></code>: a chain's stores</li>
<li><code>GET <a href="/stores/1">/stores/{id}</a></code>, <code>PATCH /stores/{id}</code>: one store</li>
<li><code>GET <a href="/posts/1">/posts/{id}</a></code>, <code>POST /posts/{id}/like</code>: posts and likes (write-back with Redis)</li>
<li><code>GET /me/recommendations</code>: per user, from a signed token</li>
<li><code>GET <a href="/metrics">/metrics</a></code>: Prometheus; <code>GET <a href="/healthz">/healthz</a></code>: health</li>
<li><code>GET|PUT /admin/flags</code>, <code>POST /admin/flush</code>: admin (bearer token)</li>
<li><code>GET /admin/cache</code>: the dashboard; <code>/admin/cache/stats</code>, <code>/flags</code>,
<code>/keys/{key}</code>, <code>/invalidate</code>, <code>/health</code>: its API (bearer token)</li>
</ul>
</body>
</html>
"#;
