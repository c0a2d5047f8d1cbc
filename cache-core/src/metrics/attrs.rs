//! Attribute sets built once per cache name, so recording or reporting allocates nothing.

use opentelemetry::KeyValue;

use crate::stats::TierName;

/// The `cache.result` of one lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    Hit,
    Miss,
    Stale,
    Bypass,
    Error,
}

const RESULTS: [&str; 5] = ["hit", "miss", "stale", "bypass", "error"];
/// Index 3 is "no tier" (a bypass never reaches one).
const TIERS: [&str; 4] = ["request", "local", "remote", "none"];

/// How many (tier, result) pairs `cache.requests` has per cache name.
pub(crate) const REQUEST_SLOTS: usize = TIERS.len() * RESULTS.len();

/// The index of one (tier, result) pair, in `0..REQUEST_SLOTS`.
#[inline]
pub(crate) fn request_slot(tier: Option<TierName>, result: Lookup) -> usize {
    let tier = match tier {
        Some(TierName::Request) => 0,
        Some(TierName::Local) => 1,
        Some(TierName::Remote) => 2,
        None => 3,
    };
    tier * RESULTS.len() + result as usize
}

/// Every attribute set one cache name needs.
pub(crate) struct NameAttrs {
    name: [KeyValue; 1],
    requests: Vec<[KeyValue; 3]>,
    shadow: [[KeyValue; 2]; 2],
}

impl NameAttrs {
    pub(crate) fn new(name: &str) -> NameAttrs {
        let name_kv = KeyValue::new("cache.name", name.to_string());
        let requests = TIERS
            .iter()
            .flat_map(|tier| {
                let name_kv = name_kv.clone();
                RESULTS.iter().map(move |result| {
                    [
                        name_kv.clone(),
                        KeyValue::new("cache.tier", *tier),
                        KeyValue::new("cache.result", *result),
                    ]
                })
            })
            .collect();
        let outcome = |o: &'static str| [name_kv.clone(), KeyValue::new("outcome", o)];
        NameAttrs {
            shadow: [outcome("mismatch"), outcome("match")],
            requests,
            name: [name_kv],
        }
    }

    pub(crate) fn name(&self) -> &[KeyValue] {
        &self.name
    }

    /// The `cache.requests` attributes of [`request_slot`]'s `slot`.
    pub(crate) fn request(&self, slot: usize) -> &[KeyValue] {
        &self.requests[slot]
    }

    pub(crate) fn shadow(&self, matched: bool) -> &[KeyValue] {
        &self.shadow[usize::from(matched)]
    }
}
