//! What [`Cache::inspect`](crate::Cache::inspect) finds about one key in each tier.

use crate::codec::EntryMeta;

/// One key as each shared tier holds it right now. The request tier is left out: it lives
/// inside one request's scope, which an inspecting caller is not part of.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInspection {
    /// The key text.
    pub key: String,
    /// The local tier's entry; `None` when absent or when there is no local tier.
    pub local: Option<EntryFacts>,
    /// What the remote tier holds.
    pub remote: RemoteFinding,
    /// The wall clock (ms since the Unix epoch) the lifetimes are to be compared with.
    pub now_ms: u64,
}

/// The lifetimes and size of one stored entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EntryFacts {
    /// Until this instant (ms since the Unix epoch) the entry is served as fresh.
    pub fresh_until_ms: u64,
    /// Until this instant it may be served stale while one caller refreshes it.
    pub stale_until_ms: u64,
    /// How long the loader took to produce it, in microseconds.
    pub load_micros: u32,
    /// Its size in bytes: what it is charged against the local byte budget, or the length of
    /// its envelope (after compression) in the remote tier.
    pub size_bytes: u64,
}

impl EntryFacts {
    pub(crate) fn new(meta: &EntryMeta, size_bytes: u64) -> EntryFacts {
        EntryFacts {
            fresh_until_ms: meta.fresh_until_ms,
            stale_until_ms: meta.stale_until_ms,
            load_micros: meta.load_micros,
            size_bytes,
        }
    }

    /// `"fresh"`, `"stale"` or `"expired"` at `now_ms`.
    pub fn state(&self, now_ms: u64) -> &'static str {
        if now_ms < self.fresh_until_ms {
            "fresh"
        } else if now_ms < self.stale_until_ms {
            "stale"
        } else {
            "expired"
        }
    }
}

/// What the remote tier holds under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteFinding {
    /// The cache has no remote tier.
    NotConfigured,
    /// Nothing is stored.
    Absent,
    /// A loader holds the key's stampede lease: a value is being loaded.
    Leased,
    /// An entry is stored.
    Entry(EntryFacts),
    /// An entry is stored but its envelope does not decode (it would be dropped on read).
    Corrupt(String),
    /// The remote tier could not be asked.
    Unreachable(String),
}
