//! A live [`FlagSource`] backed by a Redis hash: `name → mode` entries shared by every node.
//!
//! [`RedisFlagSource::publish`] writes entries with `HSET` and announces the change with a
//! backplane frame `1|F|<origin>|<hash>`; every node (the writer included) re-reads the hash on
//! that frame, after its backplane subscription reconnects (frames may have been missed) and
//! every [`RESYNC_EVERY`] as a safety net. A change therefore reaches all nodes within one
//! round trip of the publish, and within `RESYNC_EVERY` even if the frame was lost.
//!
//! Entries that do not parse (someone wrote the hash by hand) are logged and ignored; the valid
//! ones still apply.

use std::sync::{Arc, Weak};
use std::time::Duration;

use cache_core::{FlagMode, FlagSource, Flags};

use crate::error::Error;
use crate::tier::{Inner, RedisTier};

/// How often an attached source re-reads the hash even without a change frame.
pub const RESYNC_EVERY: Duration = Duration::from_secs(10);

/// A flag table attached to a hash on this node: re-read at once when this node changes the
/// hash, and nudged (re-read by its task) when another node announces a change.
pub(crate) struct Attached {
    hash: Arc<str>,
    flags: Flags,
    nudge: tokio::sync::mpsc::Sender<()>,
}

impl Attached {
    /// Asks its task to re-read the hash; a full channel already means "re-read soon".
    pub(crate) fn nudge(&self) {
        let _ = self.nudge.try_send(());
    }
}

/// The frame announcing a change of the flag hash `hash`.
pub(crate) fn change_frame(origin: &str, hash: &str) -> String {
    format!("1|F|{origin}|{hash}")
}

/// Whether `frame` announces a flag change (from any node, this one included).
pub(crate) fn is_change_frame(frame: &[u8]) -> bool {
    frame.starts_with(b"1|F|")
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
    tier: RedisTier,
    hash: Arc<str>,
}

impl RedisTier {
    /// A flag source over the hash `hash` (e.g. `"<namespace>:flags"`).
    pub fn flag_source(&self, hash: impl Into<String>) -> RedisFlagSource {
        RedisFlagSource {
            tier: self.clone(),
            hash: Arc::from(hash.into()),
        }
    }
}

impl RedisFlagSource {
    /// Writes a spec (`"chains=off, likes=25%"`) to the hash and tells every node. The whole
    /// spec is rejected, and nothing written, if any entry is invalid.
    pub async fn publish(&self, spec: &str) -> Result<(), Error> {
        let parsed = Flags::parse(spec).map_err(|e| Error::Config(e.to_string()))?;
        let inner = self.tier.inner();
        let mut hset = redis::cmd("HSET");
        hset.arg(&*self.hash);
        for (name, mode) in parsed.entries() {
            hset.arg(name).arg(mode.to_string());
        }
        inner
            .call(inner.conn.query::<i64>(&hset))
            .await
            .map_err(|f| f.into_error())?;
        self.apply_here().await;
        let frame = change_frame(&inner.node_id, &self.hash);
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(&inner.config.channel).arg(frame);
        inner
            .call(inner.conn.query::<i64>(&publish))
            .await
            .map_err(|f| f.into_error())?;
        Ok(())
    }

    /// Removes one entry from the hash (the code and env layers apply again) and tells every node.
    pub async fn remove(&self, name: &str) -> Result<(), Error> {
        let inner = self.tier.inner();
        let mut hdel = redis::cmd("HDEL");
        hdel.arg(&*self.hash).arg(name);
        inner
            .call(inner.conn.query::<i64>(&hdel))
            .await
            .map_err(|f| f.into_error())?;
        self.apply_here().await;
        let mut publish = redis::cmd("PUBLISH");
        publish
            .arg(&inner.config.channel)
            .arg(change_frame(&inner.node_id, &self.hash));
        inner
            .call(inner.conn.query::<i64>(&publish))
            .await
            .map_err(|f| f.into_error())?;
        Ok(())
    }

    /// Re-reads the hash into the flag tables attached to it on this node before the change
    /// is announced, so the writer applies its own change when the call returns (not when its
    /// own frame comes back through the backplane).
    async fn apply_here(&self) {
        let inner = self.tier.inner();
        let attached: Vec<Flags> = inner
            .attached_flags
            .read()
            .iter()
            .filter(|attached| attached.hash == self.hash)
            .map(|attached| attached.flags.clone())
            .collect();
        let weak = Arc::downgrade(&inner);
        for flags in attached {
            resync(&weak, &self.hash, &flags).await;
        }
    }

    /// The valid entries of the hash right now.
    pub async fn snapshot(&self) -> Result<Vec<(String, FlagMode)>, Error> {
        snapshot(&self.tier.inner(), &self.hash).await
    }
}

async fn snapshot(inner: &Inner, hash: &str) -> Result<Vec<(String, FlagMode)>, Error> {
    let mut hgetall = redis::cmd("HGETALL");
    hgetall.arg(hash);
    let raw: Vec<(String, String)> = inner
        .call(inner.conn.query(&hgetall))
        .await
        .map_err(|f| f.into_error())?;
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

/// Re-reads the hash into `flags`; failures keep the last known flags.
async fn resync(weak: &Weak<Inner>, hash: &str, flags: &Flags) -> bool {
    let Some(inner) = weak.upgrade() else {
        return false;
    };
    match snapshot(&inner, hash).await {
        Ok(entries) => flags.replace_live(entries),
        Err(error) => tracing::debug!(%error, "flag resync failed; keeping the last known flags"),
    }
    true
}

#[async_trait::async_trait]
impl FlagSource for RedisFlagSource {
    async fn attach(&self, flags: Flags) -> cache_core::Result<()> {
        let inner = self.tier.inner();
        let entries = snapshot(&inner, &self.hash).await?;
        flags.replace_live(entries);
        let (nudge, mut nudged) = tokio::sync::mpsc::channel::<()>(1);
        inner.attached_flags.write().push(Attached {
            hash: Arc::clone(&self.hash),
            flags: flags.clone(),
            nudge,
        });
        let weak = Arc::downgrade(&inner);
        let (hash, watched) = (Arc::clone(&self.hash), flags.clone());
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(RESYNC_EVERY);
            ticker.tick().await;
            loop {
                tokio::select! {
                    nudge = nudged.recv() => if nudge.is_none() { return },
                    _ = ticker.tick() => {}
                }
                if !resync(&weak, &hash, &watched).await {
                    return;
                }
            }
        });
        Ok(())
    }
}
