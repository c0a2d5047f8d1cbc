//! Settings from the environment, as the README documents them.

use std::net::SocketAddr;
use std::time::Duration;

/// What the server was asked to do.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on (`BIND`, default `127.0.0.1:3000`).
    pub bind: SocketAddr,
    /// `REDIS_URL`; unset means no Redis tier.
    pub redis_url: Option<String>,
    /// `DATABASE_URL`; unset means a SQLite file in the working directory.
    pub database_url: String,
    /// `CACHE_FLAGS`, applied over the code defaults.
    pub cache_flags: Option<String>,
    /// `ADMIN_TOKEN`; unset means a random token printed at startup.
    pub admin_token: Option<String>,
    /// `AUTH_SECRET`: the key user tokens are signed with (at least 32 bytes); unset means a
    /// random one per process, so tokens only work on the node that minted them.
    pub auth_secret: Option<String>,
    /// `DEMO_AUTH=1`: serve `POST /demo/token`, which mints a token for any user id.
    pub demo_auth: bool,
    /// `--warm`: load every chain list before serving.
    pub warm: bool,
    /// `CACHE_LOCAL_BYTES`: the local tier's byte budget (default 128 MiB; 0 = no local tier).
    pub local_bytes: u64,
    /// `REQUEST_TIMEOUT_MS`: a request still running after this gets 503 (default 10 s).
    pub request_timeout: Duration,
    /// `DB_ACQUIRE_TIMEOUT_MS`: how long a query waits for a pooled connection before the
    /// request gets 503 (default 2 s).
    pub db_acquire_timeout: Duration,
    /// `SHUTDOWN_GRACE_MS`: after SIGTERM/SIGINT, how long in-flight requests may take to
    /// finish before the server stops anyway (default 20 s).
    pub shutdown_grace: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("database_url", &redact_url(&self.database_url))
            .field("cache_flags", &self.cache_flags)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .field("auth_secret", &self.auth_secret.as_ref().map(|_| "<set>"))
            .field("demo_auth", &self.demo_auth)
            .field("warm", &self.warm)
            .field("local_bytes", &self.local_bytes)
            .field("request_timeout", &self.request_timeout)
            .field("db_acquire_timeout", &self.db_acquire_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish()
    }
}

/// The local tier's budget when `CACHE_LOCAL_BYTES` is unset.
pub const DEFAULT_LOCAL_BYTES: u64 = 128 * 1024 * 1024;

/// `REQUEST_TIMEOUT_MS` when unset.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `SHUTDOWN_GRACE_MS` when unset.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The SQLite file used when `DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://web-server.sqlite?mode=rwc";

impl Config {
    /// Reads the environment and the command line (`--warm`).
    pub fn from_env() -> Result<Config, String> {
        let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".to_string());
        let bind = bind
            .parse()
            .map_err(|e| format!("BIND={bind:?} is not a socket address: {e}"))?;
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Ok(Config {
            bind,
            redis_url: non_empty("REDIS_URL"),
            database_url: non_empty("DATABASE_URL")
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            cache_flags: non_empty("CACHE_FLAGS"),
            admin_token: non_empty("ADMIN_TOKEN"),
            auth_secret: non_empty("AUTH_SECRET"),
            demo_auth: match non_empty("DEMO_AUTH").as_deref().map(str::trim) {
                None | Some("0") => false,
                Some("1") => true,
                Some(other) => return Err(format!("DEMO_AUTH={other:?}: use 1 or 0")),
            },
            warm: std::env::args().any(|a| a == "--warm"),
            local_bytes: match non_empty("CACHE_LOCAL_BYTES") {
                Some(v) => v
                    .parse()
                    .map_err(|e| format!("CACHE_LOCAL_BYTES={v:?} is not a byte count: {e}"))?,
                None => DEFAULT_LOCAL_BYTES,
            },
            request_timeout: millis("REQUEST_TIMEOUT_MS", DEFAULT_REQUEST_TIMEOUT)?,
            db_acquire_timeout: millis(
                "DB_ACQUIRE_TIMEOUT_MS",
                crate::db::DEFAULT_ACQUIRE_TIMEOUT,
            )?,
            shutdown_grace: millis("SHUTDOWN_GRACE_MS", DEFAULT_SHUTDOWN_GRACE)?,
        })
    }
}

/// A positive duration in milliseconds from the variable `name`, or `default` when unset.
fn millis(name: &str, default: Duration) -> Result<Duration, String> {
    match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
            _ => Err(format!(
                "{name}={v:?} is not a positive number of milliseconds"
            )),
        },
    }
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`, for logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_string()
            };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/shop"),
            "postgres://app:***@db:5432/shop"
        );
        assert_eq!(
            redact_url("redis://:pw@127.0.0.1/0"),
            "redis://:***@127.0.0.1/0"
        );
        assert_eq!(
            redact_url("sqlite://web.sqlite?mode=rwc"),
            "sqlite://web.sqlite?mode=rwc"
        );
    }
}
