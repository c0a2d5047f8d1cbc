//! The text of a `#[cached]` function's keys, written into a caller's buffer behind a head
//! (`escape(name)[@N]`) escaped once per function instead of once per call.
//!
//! A default cache name is the function's path (`app::handlers::load`), whose `:`s are
//! escaped byte by byte; doing that on every hit cost more than the rest of the key.

use super::{CacheKey, KeyPart, KeyWriter, write_head};

/// `escape(name)[@N]` of one cache name and schema version, written once (generated code keeps
/// one in a static per function).
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct KeyHead {
    text: String,
    /// End of the escaped name in `text`.
    name_end: usize,
    name: &'static str,
    schema_version: u32,
}

impl KeyHead {
    /// The head of keys of `cache_name` at `schema_version`.
    pub fn new(cache_name: &'static str, schema_version: u32) -> KeyHead {
        let mut text = String::new();
        let (name_end, _) = write_head(&mut text, cache_name, schema_version);
        KeyHead {
            text,
            name_end,
            name: cache_name,
            schema_version,
        }
    }

    /// The cache name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The schema version.
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }
}

/// The text of a [`CacheKey::with_schema`] key written into a caller's buffer, so a lookup can
/// use it before (and, on a hit, instead of) allocating the key itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyDraft {
    name_end: usize,
    tail_start: usize,
}

impl KeyDraft {
    /// Appends `head:parts` to `buf` (expected empty).
    #[inline]
    pub(crate) fn write(
        buf: &mut String,
        head: &KeyHead,
        parts: &(impl KeyPart + ?Sized),
    ) -> KeyDraft {
        buf.push_str(&head.text);
        buf.push(':');
        KeyWriter::write_group(buf, parts);
        KeyDraft {
            name_end: head.name_end,
            tail_start: head.text.len(),
        }
    }

    /// The key whose text `self` wrote into `text`; the same as [`CacheKey::with_schema`] with
    /// the head's name and version and the same parts.
    pub(crate) fn finish(self, head: &KeyHead, text: &str) -> CacheKey {
        CacheKey::finish(
            head.name,
            head.schema_version,
            text,
            self.name_end,
            self.tail_start,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_behind_a_head_is_the_key_with_schema() {
        for (name, version) in [("plain", 0), ("app::handlers::load", 3), ("a b@c", 1)] {
            let head = KeyHead::new(name, version);
            let parts = (42_i64, "x:y");
            let mut text = String::new();
            let draft = KeyDraft::write(&mut text, &head, &parts);
            let built = CacheKey::with_schema(name, version, &parts);
            assert_eq!(text, built.as_str());
            let finished = draft.finish(&head, &text);
            assert_eq!(finished, built);
            assert_eq!(finished.cache_name(), built.cache_name());
            assert_eq!(finished.schema_version(), version);
        }
    }
}
