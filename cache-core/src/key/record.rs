//! Record keys without a version: `model/id`, the form [`CacheKey::versioned`] keys have
//! without their `-stamp`, kept apart from them.

use super::{CacheKey, KeyPart, KeyWriter};

impl CacheKey {
    /// A record's key without a version: `model/id` (what `#[derive(CacheKey)]` without
    /// `version` gives), the same shape as [`versioned`](Self::versioned) keys.
    ///
    /// Never equal to a versioned or collection key: those end with `-<stamp>`, so when the
    /// id's text itself ends like one (`4-123`, `x-n5`), its last `-` is written `%2D`, which
    /// no other key text contains (the key writer never escapes `-`, and writes a literal `%`
    /// as `%25`).
    ///
    /// # Examples
    ///
    /// ```
    /// use cache_core::{CacheKey, Micros};
    ///
    /// assert_eq!(CacheKey::record("item", &4).as_str(), "item/4");
    /// assert_eq!(CacheKey::record("item", "a-b").as_str(), "item/a-b");
    /// assert_eq!(CacheKey::record("item", "4-123").as_str(), "item/4%2D123");
    /// assert_ne!(CacheKey::record("item", "4-123"), CacheKey::versioned("item", &4, Micros(123)));
    /// assert_eq!(CacheKey::record("item", &4).cache_name(), "item");
    /// ```
    pub fn record(model: &str, id: &(impl KeyPart + ?Sized)) -> CacheKey {
        let mut tail = String::from("/");
        KeyWriter::write_group(&mut tail, id);
        if let Some(dash) = stamp_suffix_dash(&tail) {
            tail.replace_range(dash..=dash, "%2D");
        }
        Self::build(model, 0, &tail)
    }
}

/// Where the `-` is when `text` ends with `-<digits>` or `-n<digits>`, the tail of a
/// versioned key.
fn stamp_suffix_dash(text: &str) -> Option<usize> {
    let dash = text.rfind('-')?;
    let after = &text[dash + 1..];
    let digits = after.strip_prefix('n').unwrap_or(after);
    let is_stamp = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    is_stamp.then_some(dash)
}
