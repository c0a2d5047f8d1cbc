//! Runtime feature flags: switch each cache (and all of them) off, on, to a percentage of keys,
//! or to shadow mode, without a deploy.
//!
//! Reading a flag on the hot path is one atomic pointer load plus a hash-map probe: no lock, no
//! allocation, no await.

mod mode;

pub use mode::{FlagMode, FlagParseError};

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::CacheKey;
use crate::key::stable_hash;

/// Where a flag entry came from; later layers win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlagLayer {
    /// Defaults written in code ([`Flags::parse`], [`Flags::defaults`]).
    Code,
    /// The `CACHE_FLAGS` environment variable ([`Flags::with_env`]).
    Env,
    /// Runtime changes: [`Flags::set`], an admin endpoint, or a [`FlagSource`] such as a Redis hash.
    Live,
}

const LAYERS: [FlagLayer; 3] = [FlagLayer::Code, FlagLayer::Env, FlagLayer::Live];

#[derive(Debug, Clone, Default)]
struct FlagTable {
    /// Entries per layer, `*` included.
    layers: [HashMap<Arc<str>, FlagMode>; 3],
    /// The winning mode per name, precomputed so a lookup is one probe.
    merged: HashMap<Arc<str>, FlagMode>,
    global: Option<FlagMode>,
}

impl FlagTable {
    fn with_layer(
        &self,
        layer: FlagLayer,
        change: impl FnOnce(&mut HashMap<Arc<str>, FlagMode>),
    ) -> FlagTable {
        let mut next = self.clone();
        change(&mut next.layers[layer as usize]);
        next.merged.clear();
        for entries in &next.layers {
            for (name, mode) in entries {
                next.merged.insert(Arc::clone(name), *mode);
            }
        }
        next.global = next.merged.remove("*");
        next
    }
}

/// A live source of flag changes (e.g. a Redis hash with pub/sub in `cache-redis`).
#[async_trait::async_trait]
pub trait FlagSource: Send + Sync + 'static {
    /// Loads the current entries into `flags`' live layer and keeps them updated until the
    /// source is dropped. Invalid entries arriving later are logged and ignored.
    async fn attach(&self, flags: Flags) -> crate::Result<()>;
}

/// The flag table of a [`Cache`](crate::Cache). Cheap to share; updates are visible to the next
/// call on every thread.
///
/// A cache's mode is the entry with its name from the highest layer that has one (live over
/// env over code), else the `*` entry found the same way, else `On`.
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
    /// Whether the table has no entry at all (every cache on): the common case, answered on
    /// every cached call by one relaxed load instead of a table load.
    all_on: Arc<AtomicBool>,
    /// Serialises updates, so `all_on` always describes the latest table.
    writer: Arc<Mutex<()>>,
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
            all_on: Arc::new(AtomicBool::new(true)),
            writer: Arc::new(Mutex::new(())),
        }
    }

    /// Code defaults from a spec: `name=mode` entries separated by commas; `*` names the global
    /// default. Modes: `on`, `off`, `shadow`, `N%` (0–100). The error names the bad entry.
    pub fn parse(spec: &str) -> Result<Flags, FlagParseError> {
        Flags::new().defaults(spec)
    }

    /// Adds code defaults from a spec (see [`parse`](Flags::parse)).
    pub fn defaults(self, spec: &str) -> Result<Flags, FlagParseError> {
        let entries = mode::parse_spec(spec)?;
        self.replace_layer(FlagLayer::Code, entries, false);
        Ok(self)
    }

    /// Applies `CACHE_FLAGS` on top of the code defaults; an invalid entry is an error naming it
    /// (fail at startup rather than run with a flag you did not mean).
    pub fn with_env(self) -> Result<Flags, FlagParseError> {
        match std::env::var("CACHE_FLAGS") {
            Ok(spec) => self.with_env_spec(&spec),
            Err(_) => Ok(self),
        }
    }

    /// Sets the env layer from a spec read elsewhere (e.g. a config file or a test).
    pub fn with_env_spec(self, spec: &str) -> Result<Flags, FlagParseError> {
        let entries = mode::parse_spec(spec)?;
        self.replace_layer(FlagLayer::Env, entries, true);
        Ok(self)
    }

    /// Flags from the `CACHE_FLAGS` environment variable alone (all on when unset).
    pub fn from_env() -> Result<Flags, FlagParseError> {
        Flags::new().with_env()
    }

    /// Sets one cache's mode at runtime (`*` sets the global default), above code and env.
    pub fn set(&self, name: &str, mode: FlagMode) {
        self.update(|old| {
            old.with_layer(FlagLayer::Live, |live| {
                live.insert(Arc::from(name), mode);
            })
        });
    }

    /// Removes a runtime override, so the env or code entry applies again.
    pub fn clear_live(&self, name: &str) {
        self.update(|old| {
            old.with_layer(FlagLayer::Live, |live| {
                live.remove(name);
            })
        });
    }

    /// Applies a spec received at runtime: valid entries take effect, invalid ones are logged,
    /// ignored and returned.
    pub fn apply_live(&self, spec: &str) -> Vec<FlagParseError> {
        let mut rejected = Vec::new();
        let mut accepted = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match mode::parse_spec(entry) {
                Ok(mut parsed) => accepted.append(&mut parsed),
                Err(error) => {
                    tracing::warn!(%error, "ignoring invalid live cache flag");
                    rejected.push(error);
                }
            }
        }
        for (name, mode) in accepted {
            self.set(&name, mode);
        }
        rejected
    }

    /// Replaces the whole live layer with `entries` (what a [`FlagSource`] does on each snapshot).
    pub fn replace_live(&self, entries: Vec<(String, FlagMode)>) {
        self.replace_layer(FlagLayer::Live, entries, true);
    }

    fn replace_layer(&self, layer: FlagLayer, entries: Vec<(String, FlagMode)>, clear: bool) {
        self.update(|old| {
            old.with_layer(layer, |map| {
                if clear {
                    map.clear();
                }
                for (name, mode) in &entries {
                    map.insert(Arc::from(name.as_str()), *mode);
                }
            })
        });
    }

    /// Replaces the table with `change(current)` and republishes `all_on`.
    fn update(&self, change: impl FnOnce(&FlagTable) -> FlagTable) {
        let _writing = self.writer.lock();
        let next = change(&self.table.load());
        let all_on = next.merged.is_empty() && next.global.is_none();
        self.table.store(Arc::new(next));
        self.all_on.store(all_on, Ordering::Release);
    }

    /// The mode that applies to cache `name`.
    pub fn mode(&self, name: &str) -> FlagMode {
        if self.all_on.load(Ordering::Acquire) {
            return FlagMode::On;
        }
        let table = self.table.load();
        if table.merged.is_empty() {
            // The common case in production: no per-cache entries, so no hashing at all.
            return table.global.unwrap_or(FlagMode::On);
        }
        table
            .merged
            .get(name)
            .copied()
            .or(table.global)
            .unwrap_or(FlagMode::On)
    }

    /// Every explicitly set entry, `*` included, with the layer it comes from, sorted by name.
    pub fn entries(&self) -> Vec<(String, FlagMode)> {
        self.described()
            .into_iter()
            .map(|(n, m, _)| (n, m))
            .collect()
    }

    /// Like [`entries`](Flags::entries), with the winning layer of each entry.
    pub fn described(&self) -> Vec<(String, FlagMode, FlagLayer)> {
        let table = self.table.load();
        let mut out: Vec<(String, FlagMode, FlagLayer)> = Vec::new();
        for layer in LAYERS.iter().rev() {
            for (name, mode) in &table.layers[*layer as usize] {
                if !out.iter().any(|(n, _, _)| n.as_str() == &**name) {
                    out.push((name.to_string(), *mode, *layer));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// What to do for `key` under flag `name`: `Percent(n)` resolves to `On` or `Off` by a stable
    /// hash of the key, so a given key is consistently cached or not on every node.
    pub(crate) fn decide(&self, name: &str, key: &CacheKey) -> FlagMode {
        self.decide_text(name, key.as_str())
    }

    /// [`decide`](Self::decide) for a key known only by its text (the allocation-free hit path).
    pub(crate) fn decide_text(&self, name: &str, key_text: &str) -> FlagMode {
        match self.mode(name) {
            FlagMode::Percent(p) if stable_hash(key_text) % 100 < u64::from(p) => FlagMode::On,
            FlagMode::Percent(_) => FlagMode::Off,
            other => other,
        }
    }
}
