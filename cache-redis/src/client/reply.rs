//! What a failed command means for the cache: every client-library error is sorted into one
//! [`Class`], and [`Client`](super::Client)'s calls act on the class.
//!
//! An error reply is not one thing. `WRONGTYPE` is a bug; `LOADING` or `READONLY` say "not now,
//! ask again"; `NOPERM` says "never, until someone fixes the ACL". Treating them all as "Redis
//! answered, so it is up" silently drops an invalidation that met a server in the middle of a
//! failover, and a stale value outlives an `invalidate` that returned. So:
//!
//! | reply or error | class | effect |
//! |---|---|---|
//! | I/O error, refused, dropped, `MOVED`/`ASK` not followed | unreachable | outage: queued for replay, breaker failure |
//! | `LOADING`, `BUSY`, `MASTERDOWN`, `TRYAGAIN`, `CLUSTERDOWN`, `MISCONF`, `NOREPLICAS`, `OOM` | unavailable | outage: queued for replay, breaker failure; counted in `unavailable_replies` |
//! | `READONLY` | read-only | as unavailable, and the single-node connection is dropped (at most once a second) so the next command reconnects; counted in `readonly_reconnects` |
//! | `NOPERM`, or a script's ACL denial (`ERR The user executing the script can't …`) | denied | [`Error::Permission`](crate::Error::Permission), logged as an error, not queued (it would fail again), breaker success (Redis is reachable); counted in `permission_errors` |
//! | `WRONGPASS`, `NOAUTH`, failed `AUTH`/`HELLO` on reconnect | unauthenticated | [`Error::Permission`](crate::Error::Permission), logged as an error, and an outage: nothing can run, so writes are queued and the breaker counts a failure; counted in `permission_errors` |
//! | anything else (`ERR`, `WRONGTYPE`, `CROSSSLOT`, unexpected reply) | reply | not queued, breaker success; counted in `error_replies` |
//!
//! Why the unavailable codes: each says the server cannot run *this write now* but will once an
//! operator or the server itself finishes something (loading a dump, a slow script, a failover,
//! a cluster repair, a full disk, lagging replicas). `MISCONF` and `OOM` refuse writes only; they
//! are included because a refused `SET` or `UNLINK` leaves an older value readable, which is
//! exactly the stale read the queue exists to prevent. `OOM` happens under `noeviction`, which
//! the start-up check already warns about.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use redis::{ErrorKind, RedisError, ServerErrorKind};

/// How a failed command is treated; see the [module](self) table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Redis was not reached.
    Unreachable,
    /// Redis answered that it cannot serve the command right now.
    Unavailable,
    /// Redis answered `READONLY`: the endpoint is a replica now.
    ReadOnly,
    /// The user may not run the command (or touch the key or channel).
    Denied,
    /// The user's credentials were refused.
    Unauthenticated,
    /// Any other error reply or unexpected reply.
    Reply,
}

/// Error codes of a server state that passes; see the [module](self) docs for why each.
const UNAVAILABLE: &[&str] = &[
    "LOADING",
    "BUSY",
    "MASTERDOWN",
    "TRYAGAIN",
    "CLUSTERDOWN",
    "MISCONF",
    "NOREPLICAS",
    "OOM",
];

/// How Redis 7.0 words an ACL denial raised inside a Lua script: an `ERR`, not a `NOPERM`.
const SCRIPT_DENIED: &str = "The user executing the script can't";

impl Class {
    /// The class of `error`.
    pub(crate) fn of(error: &RedisError) -> Class {
        // `AuthenticationFailed` is what the client reports when `AUTH`/`HELLO` fails while
        // (re)connecting; it has no server code.
        if error.kind() == ErrorKind::AuthenticationFailed {
            return Class::Unauthenticated;
        }
        match error.code() {
            Some("READONLY") => return Class::ReadOnly,
            Some("NOPERM") => return Class::Denied,
            Some("WRONGPASS" | "NOAUTH") => return Class::Unauthenticated,
            Some(code) if UNAVAILABLE.contains(&code) => return Class::Unavailable,
            _ => {}
        }
        if error.kind() == ErrorKind::Server(ServerErrorKind::ResponseError)
            && error
                .detail()
                .is_some_and(|detail| detail.starts_with(SCRIPT_DENIED))
        {
            return Class::Denied;
        }
        if is_outage(error) {
            Class::Unreachable
        } else {
            Class::Reply
        }
    }

    /// Whether the failed call counts as an outage: queued for replay, a breaker failure.
    pub(crate) fn is_outage(self) -> bool {
        matches!(
            self,
            Class::Unreachable | Class::Unavailable | Class::ReadOnly | Class::Unauthenticated
        )
    }
}

/// Whether an error means Redis could not be reached (as opposed to an error reply).
fn is_outage(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_unrecoverable_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
        || error.is_cluster_error()
        || matches!(error.kind(), ErrorKind::ClusterConnectionNotFound)
}

/// An error as Redis worded it (`NOPERM this user has no permissions …`), or the client
/// library's own text for errors without a code. Not yet scrubbed.
pub(crate) fn describe(error: &RedisError) -> String {
    match (error.code(), error.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => error.to_string(),
    }
}

/// Which kind of log line a [`due`] check is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Log {
    /// Permission and credential errors (`tracing::error!`).
    Permission = 0,
    /// Replies of an unavailable server (`tracing::warn!`).
    Unavailable = 1,
}

/// How often each kind of log line may repeat. A denied command usually fails on every call,
/// and one line per call would drown everything else; the counters keep the exact numbers.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Whether a line of kind `log` may be logged now: the first one always, then at most one per
/// [`LOG_EVERY`]. Shared by every tier of the process (a log limit, not a statistic).
pub(crate) fn due(log: Log) -> bool {
    static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
    static LAST: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
    // Milliseconds since the epoch, plus one so that 0 means "never logged".
    let now = u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX) + 1;
    let last = &LAST[log as usize];
    let previous = last.load(Relaxed);
    let every = u64::try_from(LOG_EVERY.as_millis()).unwrap_or(u64::MAX);
    (previous == 0 || now.saturating_sub(previous) >= every)
        && last
            .compare_exchange(previous, now, Relaxed, Relaxed)
            .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error the client library makes of the raw reply `line` (as read from the socket).
    fn reply(line: &str) -> RedisError {
        redis::parse_redis_value(format!("-{line}\r\n").as_bytes())
            .and_then(redis::Value::extract_error)
            .expect_err("an error reply")
    }

    #[test]
    fn every_code_lands_in_its_class() {
        let table = [
            (
                "LOADING Redis is loading the dataset in memory",
                Class::Unavailable,
            ),
            (
                "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
                Class::Unavailable,
            ),
            (
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
                Class::Unavailable,
            ),
            (
                "TRYAGAIN Multiple keys request during rehashing of slot",
                Class::Unavailable,
            ),
            ("CLUSTERDOWN The cluster is down", Class::Unavailable),
            (
                "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk",
                Class::Unavailable,
            ),
            (
                "NOREPLICAS Not enough good replicas to write.",
                Class::Unavailable,
            ),
            (
                "OOM command not allowed when used memory > 'maxmemory'.",
                Class::Unavailable,
            ),
            (
                "READONLY You can't write against a read only replica.",
                Class::ReadOnly,
            ),
            (
                "READONLY You can't write against a read only replica. script: 740d5, on @user_script:1.",
                Class::ReadOnly,
            ),
            (
                "NOPERM this user has no permissions to run the 'unlink' command",
                Class::Denied,
            ),
            (
                "NOPERM this user has no permissions to access one of the channels used as arguments",
                Class::Denied,
            ),
            (
                "ERR The user executing the script can't run this command or subcommand script: 740d5, on @user_script:1.",
                Class::Denied,
            ),
            (
                "WRONGPASS invalid username-password pair or user is disabled.",
                Class::Unauthenticated,
            ),
            ("NOAUTH Authentication required.", Class::Unauthenticated),
            (
                "ERR wrong number of arguments for 'get' command",
                Class::Reply,
            ),
            (
                "WRONGTYPE Operation against a key holding the wrong kind of value",
                Class::Reply,
            ),
            (
                "CROSSSLOT Keys in request don't hash to the same slot",
                Class::Reply,
            ),
            (
                "EXECABORT Transaction discarded because of previous errors.",
                Class::Reply,
            ),
            ("BUSYKEY Target key name already exists.", Class::Reply),
            (
                "NOSCRIPT No matching script. Please use EVAL.",
                Class::Reply,
            ),
            // Redirections the client did not follow: a routing problem, not an answer.
            ("MOVED 3999 127.0.0.1:6381", Class::Unreachable),
        ];
        for (line, class) in table {
            assert_eq!(Class::of(&reply(line)), class, "{line}");
        }
    }

    #[test]
    fn client_side_errors_are_classified_too() {
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(Class::of(&io), Class::Unreachable);
        let auth = RedisError::from((
            ErrorKind::AuthenticationFailed,
            "Password authentication failed",
        ));
        assert_eq!(Class::of(&auth), Class::Unauthenticated);
        let parse = RedisError::from((ErrorKind::UnexpectedReturnType, "not an integer"));
        assert_eq!(Class::of(&parse), Class::Reply);
        let loading =
            RedisError::from((ErrorKind::Server(ServerErrorKind::BusyLoading), "loading"));
        assert_eq!(Class::of(&loading), Class::Unavailable);
    }

    #[test]
    fn outage_classes_are_the_retryable_ones() {
        let outage = [
            Class::Unreachable,
            Class::Unavailable,
            Class::ReadOnly,
            Class::Unauthenticated,
        ];
        for class in outage {
            assert!(class.is_outage(), "{class:?}");
        }
        assert!(!Class::Denied.is_outage());
        assert!(!Class::Reply.is_outage());
    }

    #[test]
    fn replies_are_described_as_redis_worded_them() {
        let denied = reply("NOPERM this user has no permissions to run the 'unlink' command");
        assert_eq!(
            describe(&denied),
            "NOPERM this user has no permissions to run the 'unlink' command"
        );
        assert_eq!(describe(&reply("LOADING")), "LOADING");
    }

    #[test]
    fn log_lines_are_rate_limited() {
        assert!(due(Log::Unavailable), "the first line is logged");
        assert!(
            !due(Log::Unavailable),
            "the next one within LOG_EVERY is not"
        );
    }
}
