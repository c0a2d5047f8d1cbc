//! Runtime feature flags: switch each cache (and all of them) off, on, to a percentage of keys,
//! or to shadow mode, without a deploy.
//!
//! Reading a flag on the hot path is one atomic pointer load plus a hash-map probe: no lock, no
//! allocation, no await.

mod mode;

pub use mode::{FlagMode, FlagParseError};

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::CacheKey;

#[derive(Debug, Clone, Default)]
struct FlagTable {
    global: Option<FlagMode>,
    per_name: HashMap<Arc<str>, FlagMode>,
}

/// The flag table of a [`Cache`](crate::Cache). Cheap to share; updates are visible to the next
/// call on every thread.
///
/// The mode of a cache is its own entry if it has one, else the `*` entry, else `On`.
///
/// ```
/// use cache_core::{FlagMode, Flags};
/// let flags = Flags::parse("chains=on, likes=25%, users=shadow, *=off").unwrap();
/// assert_eq!(flags.mode("chains"), FlagMode::On);
/// assert_eq!(flags.mode("likes"), FlagMode::Percent(25));
/// assert_eq!(flags.mode("anything-else"), FlagMode::Off);
/// flags.set("anything-else", FlagMode::On);
/// assert_eq!(flags.mode("anything-else"), FlagMode::On);
/// ```
#[derive(Debug, Clone)]
pub struct Flags {
    table: Arc<ArcSwap<FlagTable>>,
}

impl Default for Flags {
    fn default() -> Self {
        Flags::new()
    }
}

impl Flags {
    /// Every cache on.
    pub fn new() -> Flags {
        Flags {
            table: Arc::new(ArcSwap::from_pointee(FlagTable::default())),
        }
    }

    /// Parses `name=mode` entries separated by commas; `*` names the global default. Modes:
    /// `on`, `off`, `shadow`, `N%` (0–100). The error names the bad entry.
    pub fn parse(spec: &str) -> Result<Flags, FlagParseError> {
        let flags = Flags::new();
        flags.apply(spec)?;
        Ok(flags)
    }

    /// Flags from the `CACHE_FLAGS` environment variable (all on when unset).
    pub fn from_env() -> Result<Flags, FlagParseError> {
        match std::env::var("CACHE_FLAGS") {
            Ok(spec) => Flags::parse(&spec),
            Err(_) => Ok(Flags::new()),
        }
    }

    /// Applies a spec on top of the current table; nothing changes if any entry is invalid.
    pub fn apply(&self, spec: &str) -> Result<(), FlagParseError> {
        let entries = mode::parse_spec(spec)?;
        self.table.rcu(|old| {
            let mut next = FlagTable::clone(old);
            for (name, mode) in &entries {
                next.insert(name, *mode);
            }
            next
        });
        Ok(())
    }

    /// Sets one cache's mode (`*` sets the global default).
    pub fn set(&self, name: &str, mode: FlagMode) {
        self.table.rcu(|old| {
            let mut next = FlagTable::clone(old);
            next.insert(name, mode);
            next
        });
    }

    /// The mode that applies to cache `name`.
    pub fn mode(&self, name: &str) -> FlagMode {
        let table = self.table.load();
        table
            .per_name
            .get(name)
            .copied()
            .or(table.global)
            .unwrap_or(FlagMode::On)
    }

    /// Every explicitly set entry, `*` included, sorted by name.
    pub fn entries(&self) -> Vec<(String, FlagMode)> {
        let table = self.table.load();
        let mut out: Vec<_> = table
            .per_name
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .chain(table.global.map(|g| ("*".to_string(), g)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// What to do for `key` under flag `name`: `Percent(n)` resolves to `On` or `Off` by a stable
    /// hash of the key, so a given key is consistently cached or not on every node.
    pub(crate) fn decide(&self, name: &str, key: &CacheKey) -> FlagMode {
        match self.mode(name) {
            FlagMode::Percent(p) if key.stable_hash() % 100 < u64::from(p) => FlagMode::On,
            FlagMode::Percent(_) => FlagMode::Off,
            other => other,
        }
    }
}

impl FlagTable {
    fn insert(&mut self, name: &str, mode: FlagMode) {
        if name == "*" {
            self.global = Some(mode);
        } else {
            self.per_name.insert(Arc::from(name), mode);
        }
    }
}
