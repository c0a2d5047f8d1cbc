//! What a client-library error means for the call that met it: [`judge`] counts it, logs it
//! where it calls for it, and says whether it is an outage (queued for replay, a breaker
//! failure) or a reply (returned as it is); see [`reply`] for the table.

use super::conn::Conn;
use super::reply::{self, Class, Log};
use super::secrets::Secrets;
use super::{ClientCounters, Failure};
use crate::error::Error;

/// The [`Failure`] for `error`. Its variant decides both queueing ([`Failure::Outage`]) and
/// the breaker outcome.
pub(super) fn judge(
    error: &redis::RedisError,
    counters: &ClientCounters,
    secrets: &Secrets,
    conn: &Conn,
) -> Failure {
    match Class::of(error) {
        Class::Unreachable => Failure::Outage(secrets.command(error)),
        class @ (Class::Unavailable | Class::ReadOnly) => {
            ClientCounters::bump(&counters.unavailable_replies);
            let message = secrets.reply(error);
            // The connection to a demoted primary is dropped: the next command dials again,
            // and the endpoint may lead to the new primary by then.
            if class == Class::ReadOnly && conn.drop_after_readonly() {
                ClientCounters::bump(&counters.readonly_reconnects);
            }
            if reply::due(Log::Unavailable) {
                tracing::warn!(
                    reply = %message,
                    "Redis cannot serve commands right now; writes and invalidations are \
                     queued and replayed once it can"
                );
            }
            Failure::Outage(Error::Unavailable(message))
        }
        class @ (Class::Denied | Class::Unauthenticated) => {
            ClientCounters::bump(&counters.permission_errors);
            let message = secrets.reply(error);
            if reply::due(Log::Permission) {
                tracing::error!(
                    reply = %message,
                    total = ClientCounters::get(&counters.permission_errors),
                    "Redis refused a command for lack of permission: fix the user's ACL or \
                     credentials; until then the refused writes and invalidations do not \
                     reach Redis"
                );
            }
            let error = Error::Permission(message);
            // Refused credentials stop every command, like an outage; a refused command
            // would fail again on replay, and Redis is plainly reachable.
            if class.is_outage() {
                Failure::Outage(error)
            } else {
                Failure::Reply(error)
            }
        }
        Class::Reply => {
            ClientCounters::bump(&counters.error_replies);
            Failure::Reply(secrets.command(error))
        }
    }
}
