//! Cache keys: printable, stable, unambiguous, at most [`MAX_KEY_LEN`] bytes.
//!
//! A [`CacheKey`] names one entry in the local tier and in Redis, so its text
//! must be the same in every process, platform and release (no `std` hasher
//! is involved anywhere). The grammar:
//!
//! ```text
//! key        = plain | versioned | collection | shortened
//! head       = name [ "@" schema ]            ; name escaped; "@0" is never written
//! plain      = head ":" fields                ; CacheKey::new / with_schema
//! versioned  = head "/" fields "-" stamp      ; CacheKey::versioned
//! record     = head "/" fields                ; CacheKey::record (a final "-" stamp as "%2D")
//! collection = head "/query-" digest "-" count "-" stamp
//! stamp      = digits | "n" digits            ; µs since the epoch, "n" = negative
//! shortened  = prefix "#" 32*hex              ; SHA-256 of the full text, if > 250 bytes
//! ```
//!
//! `fields` is the [`KeyWriter`] encoding of the parts: escaped strings
//! (`%XX` for `% : , [ ] ~ / # @`, space and controls; `""` is a lone `%`),
//! fields joined by `:`, lists as `[a,b]`, `None` as `~`.
//!
//! Why no two different inputs give the same text: the escaped name contains
//! none of `: / @ #`, so the head ends at the first of them and the character
//! after it tells the kind of key. Field encodings are self-delimiting for a
//! given type (every separator is inserted by the writer, every reserved
//! character inside a string is escaped). A stamp contains no `-`, so the last
//! `-` of a versioned key ends the id; a versioned id never starts with a
//! literal `query-` (its `q` is then written `%71`), so it cannot look like a
//! collection key. `#` is escaped everywhere else, so it only appears in
//! shortened keys, which therefore never equal a key that was not shortened.

mod head;
mod parse;
mod part;
mod record;
mod repr;
mod stamp;
mod writer;

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

pub(crate) use head::KeyDraft;
pub use head::KeyHead;
pub use parse::KeyParseError;
pub use stamp::{Micros, VersionStamp};
pub(crate) use writer::escape_into;
pub use writer::{KeyPart, KeyWriter};

use repr::{Inner, with_scratch};
use stamp::push_version;
use writer::{digest_hex, encode};

/// The longest key text, in bytes (Memcached's limit, and cheap for Redis).
pub const MAX_KEY_LEN: usize = 250;

/// The key of one cache entry. Cheap to clone (one `Arc`); the text is held at its exact length.
///
/// Equality, ordering and hashing use the text only, and hash exactly like
/// the `str` it derefs to, so maps keyed by `CacheKey` can be queried with
/// `&str` (see the [`Borrow<str>`](Borrow) implementation).
#[derive(Clone)]
pub struct CacheKey(Arc<Inner>);

impl CacheKey {
    /// The key for `parts` in cache `cache_name`: `name:fields`.
    ///
    /// # Examples
    ///
    /// ```
    /// use cache_core::CacheKey;
    ///
    /// assert_eq!(CacheKey::new("users", &("acme", 42)).as_str(), "users:acme:42");
    /// assert_eq!(CacheKey::new("users", &("a:b", "c")).as_str(), "users:a%3Ab:c");
    /// assert_eq!(CacheKey::new("search", &(Some("x"), None::<u8>, vec![1, 2])).as_str(),
    ///            "search:x:~:[1,2]");
    /// ```
    pub fn new(cache_name: &str, parts: &(impl KeyPart + ?Sized)) -> CacheKey {
        Self::with_schema(cache_name, 0, parts)
    }

    /// Like [`new`](Self::new), tagged with a schema version: `name@3:fields`.
    /// Version 0 is written without `@0`, so it equals [`new`](Self::new).
    pub fn with_schema(
        cache_name: &str,
        schema_version: u32,
        parts: &(impl KeyPart + ?Sized),
    ) -> CacheKey {
        // Written into a reused buffer, then copied once at its exact length: this runs on
        // every call of a cached function.
        with_scratch(|full| {
            let (name_end, tail_start) = write_head(full, cache_name, schema_version);
            full.push(':');
            KeyWriter::write_group(full, parts);
            Self::finish(cache_name, schema_version, full, name_end, tail_start)
        })
    }

    /// The same key with `@schema_version` after the name (or none, for 0);
    /// works for every kind of key.
    ///
    /// ```
    /// use cache_core::{CacheKey, Micros};
    ///
    /// let key = CacheKey::versioned("store", &42, Micros(7)).with_schema_version(3);
    /// assert_eq!(key.as_str(), "store@3/42-7");
    /// ```
    pub fn with_schema_version(self, schema_version: u32) -> CacheKey {
        if schema_version == self.0.schema_version() {
            return self;
        }
        let tail = self.0.full().get(self.0.offsets().1..).unwrap_or_default();
        Self::build(self.cache_name(), schema_version, tail)
    }

    /// A record's key, like Rails' `cache_key_with_version`: `model/id-stamp`,
    /// the stamp in microseconds since the Unix epoch (`n5` for −5).
    ///
    /// # Examples
    ///
    /// ```
    /// use cache_core::{CacheKey, Micros};
    ///
    /// let key = CacheKey::versioned("store", &42, Micros(1732700000123456));
    /// assert_eq!(key.as_str(), "store/42-1732700000123456");
    /// assert_eq!(key.cache_name(), "store");
    /// assert_eq!(CacheKey::versioned("store", "a-b", Micros(-5)).as_str(), "store/a-b-n5");
    /// ```
    pub fn versioned(
        model: &str,
        id: &(impl KeyPart + ?Sized),
        updated_at: impl VersionStamp,
    ) -> CacheKey {
        let mut tail = String::from("/");
        KeyWriter::write_group(&mut tail, id);
        if tail[1..].starts_with("query-") {
            tail.replace_range(1..2, "%71");
        }
        tail.push('-');
        push_version(&mut tail, updated_at.version_micros());
        Self::build(model, 0, &tail)
    }

    /// A query result's key, like Rails' collection cache keys:
    /// `model/query-<digest>-<count>-<max stamp>`, where the digest is the
    /// first 128 bits of the SHA-256 of the query's field encoding, in
    /// lowercase hex.
    ///
    /// # Examples
    ///
    /// ```
    /// use cache_core::{CacheKey, Micros};
    ///
    /// let key = CacheKey::collection("chains", &("acme", true), 12, Micros(1732700000123456));
    /// assert_eq!(
    ///     key.as_str(),
    ///     "chains/query-db77ddf66f4429c7e59664a0ab45eaab-12-1732700000123456"
    /// );
    /// ```
    pub fn collection(
        model: &str,
        query: &(impl KeyPart + ?Sized),
        count: u64,
        max_updated_at: impl VersionStamp,
    ) -> CacheKey {
        let mut tail = String::from("/query-");
        tail.push_str(&digest_hex(&encode(query)));
        let _ = write!(tail, "-{count}-");
        push_version(&mut tail, max_updated_at.version_micros());
        Self::build(model, 0, &tail)
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        self.0.text()
    }

    /// The cache name as passed in, unescaped (the model for
    /// [`versioned`](Self::versioned) and [`collection`](Self::collection) keys).
    pub fn cache_name(&self) -> &str {
        match self.0.unescaped_name() {
            Some(name) => name,
            None => self.0.full().get(..self.0.offsets().0).unwrap_or_default(),
        }
    }

    /// The schema version (0 when none was given).
    pub fn schema_version(&self) -> u32 {
        self.0.schema_version()
    }

    /// Whether the text was shortened to `prefix#digest` because the full
    /// text exceeded [`MAX_KEY_LEN`] bytes.
    pub fn is_hashed(&self) -> bool {
        self.0.is_hashed()
    }

    /// XXH3-64 of the text: the same in every process and release (used for
    /// percentage rollouts).
    pub fn stable_hash(&self) -> u64 {
        stable_hash(self.as_str())
    }

    /// Builds `escape(name)[@N]` + `tail` and shortens it when too long.
    fn build(name: &str, schema_version: u32, tail: &str) -> CacheKey {
        with_scratch(|full| {
            let (name_end, tail_start) = write_head(full, name, schema_version);
            full.push_str(tail);
            Self::finish(name, schema_version, full, name_end, tail_start)
        })
    }

    /// Shortens `full` when too long and wraps it up.
    fn finish(
        name: &str,
        schema_version: u32,
        full: &str,
        name_end: usize,
        tail_start: usize,
    ) -> CacheKey {
        CacheKey(Arc::new(Inner::new(
            name,
            schema_version,
            full,
            name_end,
            tail_start,
        )))
    }
}

/// XXH3-64 of a key text: what [`CacheKey::stable_hash`] returns for that text.
pub(crate) fn stable_hash(key_text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key_text.as_bytes())
}

/// Writes `escape(name)[@N]`; returns where the name ends and where the tail starts.
fn write_head(full: &mut String, name: &str, schema_version: u32) -> (usize, usize) {
    escape_into(full, name);
    let name_end = full.len();
    if schema_version != 0 {
        let _ = write!(full, "@{schema_version}");
    }
    (name_end, full.len())
}

impl PartialEq for CacheKey {
    fn eq(&self, other: &Self) -> bool {
        // Maps keyed by `CacheKey` mostly compare a key with a clone of itself (a flight's
        // leader removing its own entry): one pointer comparison instead of the text.
        Arc::ptr_eq(&self.0, &other.0) || self.as_str() == other.as_str()
    }
}

impl Eq for CacheKey {}

impl PartialOrd for CacheKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CacheKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Hashes exactly like the key's `str`, as [`Borrow<str>`](Borrow) requires.
impl Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Borrow<str> for CacheKey {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for CacheKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({:?})", self.as_str())
    }
}
