//! What a flusher hands to the [`Sink`]: a [`Batch`] of per-entity changes.

use std::collections::BTreeMap;
use std::fmt;

/// A last-writer-wins value and its version (server time in µs, strictly increasing per
/// shard), so a sink can keep the newest even when batches arrive out of order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldValue {
    /// The value passed to [`WriteBack::set_field`](crate::WriteBack::set_field).
    pub value: String,
    /// Apply only if greater than the version already stored.
    pub version: u64,
}

/// The pending changes of one entity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Counter deltas to add, per field.
    pub deltas: BTreeMap<String, i64>,
    /// Last-writer-wins values, per field.
    pub fields: BTreeMap<String, FieldValue>,
}

impl Changes {
    /// Adds `other` (deltas summed, the newer version of each field kept).
    pub fn merge(&mut self, other: Changes) {
        for (field, delta) in other.deltas {
            *self.deltas.entry(field).or_default() += delta;
        }
        for (field, value) in other.fields {
            match self.fields.get(&field) {
                Some(have) if have.version >= value.version => {}
                _ => {
                    self.fields.insert(field, value);
                }
            }
        }
    }

    /// Parses a flattened hash (`c:<field>` → delta, `s:<field>` → `version:value`).
    pub(crate) fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Changes {
        let mut changes = Changes::default();
        for (name, raw) in pairs {
            if let Some(field) = name.strip_prefix("c:") {
                if let Ok(delta) = raw.parse::<i64>() {
                    *changes.deltas.entry(field.to_string()).or_default() += delta;
                }
            } else if let Some(field) = name.strip_prefix("s:")
                && let Some((version, value)) = raw.split_once(':')
                && let Ok(version) = version.parse()
            {
                let value = FieldValue {
                    value: value.to_string(),
                    version,
                };
                changes.merge(Changes {
                    fields: BTreeMap::from([(field.to_string(), value)]),
                    ..Changes::default()
                });
            }
        }
        changes
    }

    /// Parses what the claim script stores per entity: `<len>:<bytes>` for each name and value.
    pub(crate) fn decode(blob: &[u8]) -> Changes {
        let mut items = Vec::new();
        let mut rest = blob;
        while let Some(colon) = rest.iter().position(|&b| b == b':') {
            let len = std::str::from_utf8(&rest[..colon])
                .ok()
                .and_then(|n| n.parse::<usize>().ok());
            let Some(item) = len.and_then(|len| rest.get(colon + 1..colon + 1 + len)) else {
                break;
            };
            items.push(String::from_utf8_lossy(item).into_owned());
            rest = &rest[colon + 1 + item.len()..];
        }
        let mut items = items.into_iter();
        let pairs = std::iter::from_fn(|| Some((items.next()?, items.next()?)));
        Changes::from_pairs(pairs.collect::<Vec<_>>())
    }
}

/// Changes moved out of Redis together, delivered to a [`Sink`] until it accepts them.
///
/// ```
/// use cache_writeback::{Batch, Changes};
/// let batch = Batch { id: "0-ab12".into(), attempt: 1, entities: Default::default() };
/// assert_eq!(batch.total_delta("likes"), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// Unique (random, 128 bits, prefixed with the shard); the same on every re-delivery.
    pub id: String,
    /// 1 on the first delivery, then 2, 3, … (re-deliveries after a failure or a crash, or
    /// a claim the replicas did not confirm).
    pub attempt: u32,
    /// Changes per entity.
    pub entities: BTreeMap<String, Changes>,
}

impl Batch {
    /// The sum of `field`'s deltas over all entities.
    pub fn total_delta(&self, field: &str) -> i64 {
        self.entities
            .values()
            .filter_map(|c| c.deltas.get(field))
            .sum()
    }
}

/// Why a [`Sink`] did not accept a batch. The batch is delivered again after a backoff.
///
/// ```
/// let error = cache_writeback::SinkError::new("database unavailable");
/// assert_eq!(error.to_string(), "database unavailable");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkError(String);

impl SinkError {
    /// An error with this message.
    pub fn new(message: impl fmt::Display) -> SinkError {
        SinkError(message.to_string())
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SinkError {}

/// Where flushed changes go (the database).
///
/// **A sink must be idempotent by [`Batch::id`]**: the same batch may be delivered more than
/// once (after the sink failed, after a flusher stopped between applying and acknowledging it,
/// or twice at once if a flusher stalled past the claim timeout). Record the id in the same
/// transaction as the changes (`INSERT INTO applied_batches (id) … ON CONFLICT DO NOTHING`;
/// skip the batch when the id was already there) and keep ids at least as long as the
/// write-back's `pending_ttl`. Apply [`FieldValue`]s only when their version is newer.
///
/// ```
/// use cache_writeback::{Batch, Sink, SinkError};
///
/// struct Log;
///
/// #[async_trait::async_trait]
/// impl Sink for Log {
///     async fn write(&self, batch: &Batch) -> Result<(), SinkError> {
///         println!("{} entities in batch {}", batch.entities.len(), batch.id);
///         Ok(())
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait Sink: Send + Sync + 'static {
    /// Applies `batch` durably, or fails (then it comes back later with the same id).
    async fn write(&self, batch: &Batch) -> Result<(), SinkError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_length_prefixed_items() {
        let blob = b"6:c:like2:-33:s:t8:17:a:b c";
        let changes = Changes::decode(blob);
        assert_eq!(changes.deltas["like"], -3);
        let title = &changes.fields["t"];
        assert_eq!((title.version, title.value.as_str()), (17, "a:b c"));
        assert_eq!(Changes::decode(b"99:short"), Changes::default());
    }

    #[test]
    fn merge_sums_deltas_and_keeps_newer_fields() {
        let mut a =
            Changes::from_pairs([("c:x".into(), "2".into()), ("s:t".into(), "5:new".into())]);
        a.merge(Changes::from_pairs([
            ("c:x".into(), "3".into()),
            ("s:t".into(), "4:old".into()),
        ]));
        assert_eq!(a.deltas["x"], 5);
        assert_eq!(a.fields["t"].value, "new");
    }
}
