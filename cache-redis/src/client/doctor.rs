//! Start-up check of the server's eviction policy.
//!
//! A cache wants Redis to evict when full. `noeviction` makes writes fail instead, and
//! `allkeys-random` evicts hot keys as readily as cold ones. Every key this crate writes has a
//! TTL, so `volatile-lfu` and `allkeys-lfu` both fit. `CONFIG GET` may be refused (ACLs,
//! managed services); that is not an error.

use redis::Cmd;

use super::conn::Conn;

/// The warning for `policy`, if it is a poor fit.
pub(crate) fn assess(policy: &str) -> Option<String> {
    let why = match policy {
        "noeviction" => "writes fail once Redis is full",
        "allkeys-random" => "hot entries are evicted as readily as cold ones",
        _ => return None,
    };
    Some(format!(
        "Redis maxmemory-policy is {policy}: {why}; use allkeys-lfu or volatile-lfu \
         (every cache key has a TTL)"
    ))
}

/// Asks the server for its policy and logs a warning if it is a poor fit.
pub(crate) async fn check(conn: &Conn, limit: std::time::Duration) -> Option<String> {
    let mut cmd = Cmd::new();
    cmd.arg("CONFIG").arg("GET").arg("maxmemory-policy");
    let reply = tokio::time::timeout(limit, conn.query::<Vec<String>>(&cmd)).await;
    let policy = match reply {
        Ok(Ok(pair)) => pair.into_iter().nth(1)?,
        Ok(Err(error)) => {
            tracing::debug!(
                kind = ?error.kind(),
                "CONFIG GET maxmemory-policy refused; eviction policy not checked"
            );
            return None;
        }
        Err(_) => return None,
    };
    let warning = assess(&policy)?;
    tracing::warn!("{warning}");
    Some(warning)
}

#[cfg(test)]
mod tests {
    use super::assess;

    #[test]
    fn flags_only_poor_policies() {
        assert!(assess("noeviction").unwrap().contains("allkeys-lfu"));
        assert!(assess("allkeys-random").is_some());
        for fine in ["allkeys-lfu", "volatile-lfu", "allkeys-lru", "volatile-ttl"] {
            assert_eq!(assess(fine), None);
        }
    }
}
