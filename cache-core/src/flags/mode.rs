//! Flag modes and the `name=mode,…` text form.

use std::fmt;
use std::str::FromStr;

/// How a cache behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagMode {
    /// Call the function directly: no reads, no writes.
    Off,
    /// Cache normally.
    On,
    /// Cache for this percentage (0–100) of keys, chosen by a stable hash of the key.
    Percent(u8),
    /// Load fresh and read the cache, compare, count matches and mismatches, return fresh.
    Shadow,
}

impl fmt::Display for FlagMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagMode::Off => f.write_str("off"),
            FlagMode::On => f.write_str("on"),
            FlagMode::Percent(p) => write!(f, "{p}%"),
            FlagMode::Shadow => f.write_str("shadow"),
        }
    }
}

/// A flag spec that could not be parsed; the message names the bad entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cache flag entry `{entry}`: {reason}")]
pub struct FlagParseError {
    /// The offending `name=mode` entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for FlagMode {
    type Err = &'static str;

    /// ```
    /// use cache_core::FlagMode;
    /// assert_eq!("25%".parse::<FlagMode>(), Ok(FlagMode::Percent(25)));
    /// assert!("101%".parse::<FlagMode>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<FlagMode, &'static str> {
        match s.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => Ok(FlagMode::On),
            "off" | "false" | "0" => Ok(FlagMode::Off),
            "shadow" => Ok(FlagMode::Shadow),
            other => match other.strip_suffix('%').map(str::parse::<u8>) {
                Some(Ok(p)) if p <= 100 => Ok(FlagMode::Percent(p)),
                Some(_) => Err("percentage must be a whole number from 0 to 100"),
                None => Err("mode must be on, off, shadow or N%"),
            },
        }
    }
}

pub(super) fn parse_spec(spec: &str) -> Result<Vec<(String, FlagMode)>, FlagParseError> {
    spec.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|entry| {
            let err = |reason| FlagParseError {
                entry: entry.to_string(),
                reason,
            };
            let (name, mode) = entry.split_once('=').ok_or(err("expected name=mode"))?;
            let name = name.trim();
            if name.is_empty() {
                return Err(err("the cache name is empty"));
            }
            Ok((name.to_string(), mode.parse().map_err(err)?))
        })
        .collect()
}
