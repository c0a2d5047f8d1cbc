//! The distributed stampede lease: `SET <lease_prefix><key> <token> NX PX <ttl>`, released by
//! a Lua compare-and-`UNLINK` so that a lease that expired and was taken by another node is
//! never released by its former holder.
//!
//! On a Cluster the lease key generally lives in another slot than the entry. That is
//! deliberate: both lease commands touch only the lease key, so nothing needs the two keys in
//! one slot, and the leases of hot keys spread over the cluster like the keys themselves.

use std::sync::LazyLock;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use cache_core::Lease;
use redis::Script;

use crate::call::Failure;
use crate::tier::{Inner, millis};

static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('UNLINK', KEYS[1])
end
return 0",
    )
});

impl Inner {
    fn lease_key(&self, key: &str) -> String {
        format!("{}{key}", self.config.lease_prefix)
    }

    pub(crate) async fn try_lease(&self, key: &str, ttl: Duration) -> Result<Lease, Failure> {
        let token = format!(
            "{}-{:x}",
            self.node_id,
            self.next_token.fetch_add(1, Relaxed)
        );
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.lease_key(key))
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl));
        let reply: Option<String> = self.call(self.conn.query(&cmd)).await?;
        Ok(match reply {
            Some(_) => Lease::Acquired(token),
            None => Lease::HeldElsewhere,
        })
    }

    pub(crate) async fn release_lease(&self, key: &str, token: &str) -> Result<(), Failure> {
        let mut invocation = RELEASE.prepare_invoke();
        invocation.key(self.lease_key(key)).arg(token);
        let _: i64 = self.call(self.conn.invoke(&invocation)).await?;
        Ok(())
    }
}
