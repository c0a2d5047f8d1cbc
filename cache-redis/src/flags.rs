//! A live [`FlagSource`] backed by a Redis hash: `name → mode` entries shared by every node.
//!
//! [`RedisFlagSource::publish`] writes entries with `HSET` and announces the change with a
//! backplane frame `1|F|<origin>|<hash>` (see [`backplane`](crate::backplane)); every node (the writer included) re-reads the hash on
//! that frame, after its backplane subscription reconnects (frames may have been missed) and
//! every [`RESYNC_EVERY`] as a safety net. A change therefore reaches all nodes within one
//! round trip of the publish, and within `RESYNC_EVERY` even if the frame was lost.
//!
//! Entries that do not parse (someone wrote the hash by hand) are logged and ignored; the valid
//! ones still apply.

use std::sync::{Arc, Weak};
use std::time::Duration;

use cache_core::{FlagMode, FlagSource, Flags};
use parking_lot::RwLock;

use crate::backplane::Backplane;
use crate::client::Client;
use crate::error::Error;

/// How often an attached source re-reads the hash even without a change frame.
pub const RESYNC_EVERY: Duration = Duration::from_secs(10);

/// The flag tables attached on this node, by hash: a node that changes a hash re-reads it
/// into them at once, before it tells the others.
#[derive(Default)]
pub(crate) struct FlagTables {
    attached: RwLock<Vec<(Arc<str>, Flags)>>,
}

/// Flags kept in a Redis hash and shared by every node that attaches to it.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use cache_core::{FlagSource, Flags};
/// let tier = cache_redis::RedisTier::connect("redis://127.0.0.1:6379").await?;
/// let source = tier.flag_source("app:flags");
/// let flags = Flags::parse("*=on")?;
/// source.attach(flags.clone()).await?;      // live layer now follows the hash
/// source.publish("chains=off").await?;      // every attached node turns `chains` off
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisFlagSource {
    client: Arc<Client>,
    /// Announces changes, and nudges attached tables when others announce theirs; holding
    /// it keeps the tier's subscriber running as long as the source is in use.
    backplane: Arc<Backplane>,
    tables: Arc<FlagTables>,
    hash: Arc<str>,
}

impl RedisFlagSource {
    /// A source over the hash `hash`; see [`RedisTier::flag_source`](crate::RedisTier::flag_source).
    pub(crate) fn new(
        client: Arc<Client>,
        backplane: Arc<Backplane>,
        tables: Arc<FlagTables>,
        hash: String,
    ) -> RedisFlagSource {
        RedisFlagSource {
            client,
            backplane,
            tables,
            hash: Arc::from(hash),
        }
    }

    /// Writes a spec (`"chains=off, likes=25%"`) to the hash and tells every node. The whole
    /// spec is rejected, and nothing written, if any entry is invalid.
    pub async fn publish(&self, spec: &str) -> Result<(), Error> {
        let parsed = Flags::parse(spec).map_err(Error::InvalidFlags)?;
        let mut hset = redis::cmd("HSET");
        hset.arg(&*self.hash);
        for (name, mode) in parsed.entries() {
            hset.arg(name).arg(mode.to_string());
        }
        self.client.query::<i64>(&hset).await?;
        self.announce().await
    }

    /// Removes one entry from the hash (the code and env layers apply again) and tells every node.
    pub async fn remove(&self, name: &str) -> Result<(), Error> {
        let mut hdel = redis::cmd("HDEL");
        hdel.arg(&*self.hash).arg(name);
        self.client.query::<i64>(&hdel).await?;
        self.announce().await
    }

    /// Re-reads the hash into the flag tables attached to it on this node, then tells every
    /// node. In this order so that the writer applies its own change when the call returns
    /// (not when its own frame comes back through the backplane).
    async fn announce(&self) -> Result<(), Error> {
        let here: Vec<Flags> = self
            .tables
            .attached
            .read()
            .iter()
            .filter(|(hash, _)| *hash == self.hash)
            .map(|(_, flags)| flags.clone())
            .collect();
        let weak = Arc::downgrade(&self.client);
        for flags in here {
            resync(&weak, &self.hash, &flags).await;
        }
        Ok(self.backplane.publish_flag_change(&self.hash).await?)
    }

    /// The valid entries of the hash right now.
    pub async fn snapshot(&self) -> Result<Vec<(String, FlagMode)>, Error> {
        snapshot(&self.client, &self.hash).await
    }
}

async fn snapshot(client: &Client, hash: &str) -> Result<Vec<(String, FlagMode)>, Error> {
    let mut hgetall = redis::cmd("HGETALL");
    hgetall.arg(hash);
    let raw: Vec<(String, String)> = client.query(&hgetall).await?;
    Ok(raw
        .into_iter()
        .filter_map(|(name, mode)| match mode.parse::<FlagMode>() {
            Ok(mode) => Some((name, mode)),
            Err(reason) => {
                tracing::warn!(%name, %mode, reason, hash, "ignoring invalid flag in Redis");
                None
            }
        })
        .collect())
}

/// Re-reads the hash into `flags`; failures keep the last known flags. `false` once the tier
/// is gone.
async fn resync(client: &Weak<Client>, hash: &str, flags: &Flags) -> bool {
    let Some(client) = client.upgrade() else {
        return false;
    };
    match snapshot(&client, hash).await {
        Ok(entries) => flags.replace_live(entries),
        Err(error) => tracing::debug!(%error, "flag resync failed; keeping the last known flags"),
    }
    true
}

#[async_trait::async_trait]
impl FlagSource for RedisFlagSource {
    async fn attach(&self, flags: Flags) -> cache_core::Result<()> {
        let entries = snapshot(&self.client, &self.hash).await?;
        flags.replace_live(entries);
        let mut nudged = self.backplane.watch_flag_changes();
        self.tables
            .attached
            .write()
            .push((Arc::clone(&self.hash), flags.clone()));
        let weak = Arc::downgrade(&self.client);
        let hash = Arc::clone(&self.hash);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(RESYNC_EVERY);
            ticker.tick().await;
            loop {
                tokio::select! {
                    nudge = nudged.recv() => if nudge.is_none() { return },
                    _ = ticker.tick() => {}
                }
                if !resync(&weak, &hash, &flags).await {
                    return;
                }
            }
        });
        Ok(())
    }
}
