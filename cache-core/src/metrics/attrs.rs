//! Attribute sets built once per cache name, so recording a hit allocates nothing.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
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

/// Every attribute set one cache name needs.
pub(crate) struct NameAttrs {
    name: [KeyValue; 1],
    requests: Vec<[KeyValue; 3]>,
    shadow: [[KeyValue; 2]; 2],
}

impl NameAttrs {
    fn new(name: &str) -> NameAttrs {
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

    pub(crate) fn request(&self, tier: Option<TierName>, result: Lookup) -> &[KeyValue] {
        let tier = match tier {
            Some(TierName::Request) => 0,
            Some(TierName::Local) => 1,
            Some(TierName::Remote) => 2,
            None => 3,
        };
        &self.requests[tier * RESULTS.len() + result as usize]
    }

    pub(crate) fn shadow(&self, matched: bool) -> &[KeyValue] {
        &self.shadow[usize::from(matched)]
    }
}

/// Copy-on-write map from cache name to its attribute sets: reads are lock-free.
#[derive(Default)]
pub(crate) struct AttrCache {
    by_name: ArcSwap<HashMap<Arc<str>, Arc<NameAttrs>>>,
}

impl AttrCache {
    #[inline]
    pub(crate) fn with<R>(&self, name: &str, f: impl FnOnce(&NameAttrs) -> R) -> R {
        if let Some(attrs) = self.by_name.load().get(name) {
            return f(attrs);
        }
        let attrs = Arc::new(NameAttrs::new(name));
        self.by_name.rcu(|old| {
            let mut next = HashMap::clone(old);
            next.entry(Arc::from(name))
                .or_insert_with(|| Arc::clone(&attrs));
            next
        });
        f(&attrs)
    }
}
