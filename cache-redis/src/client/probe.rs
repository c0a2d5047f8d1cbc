//! Start-up check that the configured user may run every command the tier sends, so that a
//! missing ACL permission fails [`RedisTier::connect`](crate::RedisTier::connect) with an
//! [`Error::Permission`] naming the commands, instead of showing up later as invalidations that
//! never reach Redis.
//!
//! `ACL DRYRUN` would answer without side effects but needs admin rights an application user
//! should not have, so the check runs the commands themselves, harmlessly:
//!
//! * reads and deletes on two keys that do not exist, `<lease_prefix>__permission_probe__`
//!   and `<tag_prefix>__permission_probe__` (`GET`, `MGET`, `HGET`, `PTTL`, `SMEMBERS`,
//!   `PEXPIRE`, `UNLINK`), so key patterns in the ACL are checked against the configured
//!   prefixes;
//! * `PING`; `SCRIPT LOAD` and `EVALSHA` of `return 1` (the tier's scripts run as `EVALSHA`,
//!   loaded on `NOSCRIPT`; the commands inside them are the ones checked here);
//! * `PUBLISH` of `0|permission-probe` on the backplane channel, a frame every subscriber
//!   ignores (it is not a version-1 frame), and `SUBSCRIBE` to the channel on a connection of
//!   its own, closed right after;
//! * then the writes, each undone at once and only if `UNLINK` is allowed: `SET … NX PX 1000`
//!   on the lease probe key, `SADD` on the tag probe key, `HINCRBY … 0` (a namespace clear's
//!   increment) on the lease probe key.
//!
//! Keys of cached entries are named by the engine's namespace, which the tier does not know;
//! an ACL that allows the prefixes but not the namespace is not caught here, but its `NOPERM`
//! replies are logged as errors and counted in `permission_errors` at run time.
//!
//! Only permission and credential errors fail the check. Anything else (a `LOADING` server, a
//! timeout) is left to the command path, which handles it; the check is bounded by the connect
//! timeout.

use redis::{Cmd, Script, Value};

use super::config::RedisConfig;
use super::conn::Conn;
use super::reply::Class;
use super::secrets::Secrets;
use crate::error::Error;

/// Runs the check; `Err(Error::Permission)` lists every refused command, or says that the
/// credentials were refused.
pub(crate) async fn permissions(
    conn: &Conn,
    config: &RedisConfig,
    secrets: &Secrets,
) -> Result<(), Error> {
    let mut probe = Probe {
        conn,
        secrets,
        denied: Vec::new(),
        refused_login: None,
    };
    match tokio::time::timeout(config.connect_timeout, probe.run(config)).await {
        Ok(()) => {}
        Err(_) => tracing::debug!("permission check not finished within the connect timeout"),
    }
    let message = match probe.refused_login {
        Some(reply) => format!("the credentials were refused ({reply})"),
        None if probe.denied.is_empty() => return Ok(()),
        None => format!("the user may not run {}", probe.denied.join("; ")),
    };
    tracing::error!("Redis tier not started: {message}");
    Err(Error::Permission(message))
}

struct Probe<'a> {
    conn: &'a Conn,
    secrets: &'a Secrets,
    /// `COMMAND key (reply)` for each refused command.
    denied: Vec<String>,
    /// The reply that refused the credentials (`NOAUTH`, `WRONGPASS`); nothing else can run.
    refused_login: Option<String>,
}

impl Probe<'_> {
    async fn run(&mut self, config: &RedisConfig) {
        let lease = format!("{}__permission_probe__", config.lease_prefix);
        let tag = format!("{}__permission_probe__", config.tag_prefix);
        let script = Script::new("return 1");
        let steps: [&[&str]; 14] = [
            &["PING"],
            &["GET", &lease],
            &["MGET", &lease],
            &["HGET", &lease, "n"],
            &["PTTL", &lease],
            &["PEXPIRE", &lease, "1000"],
            &["UNLINK", &lease],
            &["SMEMBERS", &tag],
            &["PTTL", &tag],
            &["PEXPIRE", &tag, "1000"],
            &["UNLINK", &tag],
            &["SCRIPT", "LOAD", "return 1"],
            &["EVALSHA", script.get_hash(), "0"],
            &["PUBLISH", &config.channel, "0|permission-probe"],
        ];
        for step in steps {
            self.check(step).await;
            if self.refused_login.is_some() {
                return;
            }
        }
        self.subscribe(config).await;
        // Nothing is written unless it can be removed again.
        if self.denied.iter().any(|d| d.starts_with("UNLINK")) {
            return;
        }
        if self.check(&["SET", &lease, "1", "NX", "PX", "1000"]).await {
            self.check(&["UNLINK", &lease]).await;
        }
        if self.check(&["SADD", &tag, "1"]).await {
            self.check(&["UNLINK", &tag]).await;
        }
        if self.check(&["HINCRBY", &lease, "n", "0"]).await {
            self.check(&["UNLINK", &lease]).await;
        }
    }

    /// Runs the command `args`; `false` if it failed (recorded if it was refused).
    async fn check(&mut self, args: &[&str]) -> bool {
        let mut cmd = Cmd::new();
        for arg in args {
            cmd.arg(*arg);
        }
        match self.conn.query::<Value>(&cmd).await {
            Ok(_) => true,
            Err(error) => {
                self.record(&shown(args), &error);
                false
            }
        }
    }

    /// `SUBSCRIBE` needs a connection of its own (the backplane opens one the same way).
    async fn subscribe(&mut self, config: &RedisConfig) {
        let subscribing = async {
            let client = redis::Client::open(config.urls[0].expose())?;
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&config.channel).await
        };
        if let Err(error) = subscribing.await {
            self.record(&format!("SUBSCRIBE {}", config.channel), &error);
        }
    }

    fn record(&mut self, shown: &str, error: &redis::RedisError) {
        match Class::of(error) {
            Class::Denied => {
                self.denied
                    .push(format!("{shown} ({})", self.secrets.reply(error)));
            }
            Class::Unauthenticated => self.refused_login = Some(self.secrets.reply(error)),
            _ => tracing::debug!(
                command = shown,
                error = %self.secrets.reply(error),
                "permission check: not a permission error, left to the command path"
            ),
        }
    }
}

/// A command as shown in the error: its name and first argument (a probe key or the channel),
/// or the script subcommand; never a script body or a value.
fn shown(args: &[&str]) -> String {
    match args {
        ["SCRIPT", sub, ..] => format!("SCRIPT {sub}"),
        [command @ ("EVALSHA" | "PING"), ..] => (*command).to_string(),
        [command, first, ..] => format!("{command} {first}"),
        [command] => (*command).to_string(),
        [] => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_shown_by_command_and_key() {
        assert_eq!(shown(&["UNLINK", "lease:p"]), "UNLINK lease:p");
        assert_eq!(shown(&["SCRIPT", "LOAD", "return 1"]), "SCRIPT LOAD");
        assert_eq!(shown(&["EVALSHA", "abc", "0"]), "EVALSHA");
        assert_eq!(shown(&["PUBLISH", "ch", "x"]), "PUBLISH ch");
        assert_eq!(shown(&["SET", "lease:p", "1", "NX"]), "SET lease:p");
    }
}
