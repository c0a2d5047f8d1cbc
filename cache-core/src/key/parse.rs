//! Reading a key back from its text, for tools that only have the text (an admin route, a log
//! line): the head grammar of the [module docs](super) in reverse. The fields stay text, since
//! their types are the application's; the key is identified by its text alone.

use super::{CacheKey, MAX_KEY_LEN};

/// Why a text is not a key [`CacheKey::parse`] accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyParseError {
    /// The text is empty.
    #[error("the key is empty")]
    Empty,
    /// Keys are at most [`MAX_KEY_LEN`] bytes (longer ones are stored shortened).
    #[error("the key is {0} bytes long; keys are at most {MAX_KEY_LEN} bytes")]
    TooLong(usize),
    /// Keys never contain spaces or control characters (they are written escaped).
    #[error("the key contains a space or control character at byte {0}; keys escape them as %XX")]
    Unescaped(usize),
    /// No `:`, `/` or `#` ends the cache name.
    #[error("the key has no `:`, `/` or `#` after its cache name (e.g. `users:42`)")]
    NoSeparator,
    /// The cache name part is empty (an empty name is written `%`).
    #[error("the key's cache name is empty")]
    EmptyName,
    /// A `%` in the name is not followed by two hex digits, or the escapes are not UTF-8.
    #[error("the key's cache name has a malformed %-escape")]
    BadEscape,
    /// The schema version after `@` is not a number from 1 to 4294967295.
    #[error(
        "the key's schema version after `@` must be a number from 1 to {}",
        u32::MAX
    )]
    BadSchema,
}

impl CacheKey {
    /// The key whose text is `text`, as [`as_str`](CacheKey::as_str) printed it.
    ///
    /// A shortened key (`prefix#digest`) parses to a key with that text, which names the same
    /// entry; it just cannot say it was shortened ([`is_hashed`](CacheKey::is_hashed) is
    /// false).
    ///
    /// # Examples
    ///
    /// ```
    /// use cache_core::CacheKey;
    ///
    /// let key = CacheKey::with_schema("user profile", 3, &("acme", 42));
    /// let parsed = CacheKey::parse(key.as_str()).unwrap();
    /// assert_eq!(parsed, key);
    /// assert_eq!(parsed.cache_name(), "user profile");
    /// assert_eq!(parsed.schema_version(), 3);
    /// assert!(CacheKey::parse("no-separator").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<CacheKey, KeyParseError> {
        if text.is_empty() {
            return Err(KeyParseError::Empty);
        }
        if text.len() > MAX_KEY_LEN {
            return Err(KeyParseError::TooLong(text.len()));
        }
        if let Some(at) = text.find(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(KeyParseError::Unescaped(at));
        }
        let name_end = text
            .find([':', '/', '@', '#'])
            .ok_or(KeyParseError::NoSeparator)?;
        let escaped_name = &text[..name_end];
        if escaped_name.is_empty() {
            return Err(KeyParseError::EmptyName);
        }
        let name = unescape(escaped_name)?;
        let (schema_version, tail_start) = match text[name_end..].strip_prefix('@') {
            None => (0, name_end),
            Some(rest) => {
                let digits = rest
                    .find([':', '/', '#'])
                    .ok_or(KeyParseError::NoSeparator)?;
                let version = rest[..digits]
                    .parse::<u32>()
                    .ok()
                    .filter(|v| *v != 0 && !rest.starts_with('0'))
                    .ok_or(KeyParseError::BadSchema)?;
                (version, name_end + 1 + digits)
            }
        };
        Ok(CacheKey::finish(
            &name,
            schema_version,
            text,
            name_end,
            tail_start,
        ))
    }
}

/// Undoes `escape_into`: `%XX` sequences back to bytes, a lone `%` back to "".
fn unescape(escaped: &str) -> Result<String, KeyParseError> {
    if escaped == "%" {
        return Ok(String::new());
    }
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = escaped.get(i + 1..i + 3).ok_or(KeyParseError::BadEscape)?;
            let byte = u8::from_str_radix(hex, 16).map_err(|_| KeyParseError::BadEscape)?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| KeyParseError::BadEscape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Micros;

    #[test]
    fn every_kind_of_key_reads_back_as_itself() {
        let keys = [
            CacheKey::new("users", &("a:b", 42)),
            CacheKey::new("", &1),
            CacheKey::new("naïve name/with@odd#chars", &"x"),
            CacheKey::with_schema("users", 7, &1),
            CacheKey::versioned("store", &42, Micros(7)).with_schema_version(2),
            CacheKey::new("long", &"x".repeat(400)),
        ];
        for key in keys {
            let parsed = CacheKey::parse(key.as_str()).unwrap();
            assert_eq!(parsed.as_str(), key.as_str());
            assert_eq!(parsed.cache_name(), key.cache_name(), "{key:?}");
            assert_eq!(parsed.schema_version(), key.schema_version());
        }
    }

    #[test]
    fn malformed_texts_say_what_is_wrong() {
        let cases = [
            ("", KeyParseError::Empty),
            ("users", KeyParseError::NoSeparator),
            (":42", KeyParseError::EmptyName),
            ("us%zzers:1", KeyParseError::BadEscape),
            ("users@0:1", KeyParseError::BadSchema),
            ("users@x:1", KeyParseError::BadSchema),
            ("users: 1", KeyParseError::Unescaped(6)),
        ];
        for (text, expected) in cases {
            assert_eq!(CacheKey::parse(text), Err(expected), "{text:?}");
        }
        let long = format!("users:{}", "x".repeat(MAX_KEY_LEN));
        assert!(matches!(
            CacheKey::parse(&long),
            Err(KeyParseError::TooLong(_))
        ));
    }
}
