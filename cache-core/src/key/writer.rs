//! [`KeyPart`], what can go into a key, and [`KeyWriter`], the only way it is written: each
//! names the other, so they live together. Also the escaping of text.

use std::fmt::Display;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// A value that can be written into a [`CacheKey`](struct@crate::CacheKey).
///
/// Implementations call the methods of [`KeyWriter`], which insert every
/// separator themselves; for a given type, equal values give equal keys and
/// different values give different keys.
///
/// Encodings of the provided implementations:
///
/// | type | encoding |
/// | --- | --- |
/// | integers | decimal (`42`, `-7`) |
/// | `bool` | `true` / `false` |
/// | `f32`, `f64` | shortest round-trip text (`1.5`, `NaN`); `-0.0` ≠ `0.0` |
/// | `str`, `String`, `Cow<str>`, `char` | escaped text, `""` is `%` |
/// | `&T`, `Box<T>`, `Rc<T>`, `Arc<T>` | as `T` |
/// | `Option<T>` | `~` for `None`, else as `T` (see [`KeyWriter::option`]) |
/// | `()` | nothing |
/// | tuples (up to 12) | their fields in order, flattened: `a:b:c` |
/// | `[T]`, `[T; N]`, `Vec`, `VecDeque`, `BTreeSet` | `[a,b,c]` |
/// | `BTreeMap<K, V>` | `[k:v,k:v]` in key order |
/// | `SystemTime` | whole microseconds since the Unix epoch (rounded down) |
/// | `Duration` | whole **nanoseconds** (exact) |
/// | `uuid::Uuid` (feature `uuid`) | hyphenated lowercase |
/// | `chrono::DateTime<Tz>` (feature `chrono`) | µs since the epoch: the same instant gives the same key in every time zone |
/// | `chrono::NaiveDateTime` (feature `chrono`) | µs since the epoch, read as UTC |
/// | `chrono::NaiveDate` (feature `chrono`) | `2024-11-27` |
///
/// There is deliberately **no** implementation for `HashMap` or `HashSet`:
/// their iteration order differs between processes, so the same map would
/// give different keys. Use `BTreeMap` / `BTreeSet`, or a sorted `Vec`.
///
/// # Examples
///
/// ```
/// use cache_core::{CacheKey, KeyPart, KeyWriter};
///
/// struct StoreQuery { tenant: String, store_id: u64, open: Option<bool> }
///
/// impl KeyPart for StoreQuery {
///     fn write_key(&self, out: &mut KeyWriter<'_>) {
///         out.str(&self.tenant);
///         out.u64(self.store_id);
///         out.option(self.open.as_ref());
///     }
/// }
///
/// let q = StoreQuery { tenant: "acme:eu".into(), store_id: 42, open: None };
/// assert_eq!(CacheKey::new("stores", &q).as_str(), "stores:acme%3Aeu:42:~");
/// assert_eq!(CacheKey::new("users", &("acme", 42)).as_str(), "users:acme:42");
/// assert_eq!(CacheKey::new("tags", &vec!["a b", ""]).as_str(), "tags:[a%20b,%]");
/// ```
pub trait KeyPart {
    /// Writes this value through `out`.
    fn write_key(&self, out: &mut KeyWriter<'_>);
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `c` is percent-encoded in key text.
///
/// The reserved separators `% : , [ ] ~ / # @`, space, and control characters
/// (ASCII controls, DEL and the C1 controls U+0080..U+009F) are encoded;
/// everything else, including other non-ASCII text, stays readable.
fn is_escaped(c: char) -> bool {
    matches!(c, '%' | ':' | ',' | '[' | ']' | '~' | '/' | '#' | '@' | ' ') || c.is_control()
}

/// An ASCII byte that stays as it is (false for every non-ASCII byte, which takes the slow path).
#[inline]
fn plain_ascii(b: u8) -> bool {
    matches!(b, 0x21..=0x7e)
        && !matches!(
            b,
            b'%' | b':' | b',' | b'[' | b']' | b'~' | b'/' | b'#' | b'@'
        )
}

/// Appends `s` to `out` with the key escaping: each byte of an escaped
/// character becomes `%XX` (uppercase hex); the empty string becomes a lone `%`.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    if s.is_empty() {
        out.push('%');
        return;
    }
    // Names and most parts are plain ASCII: one pass over the bytes instead of decoding chars.
    if s.bytes().all(plain_ascii) {
        out.push_str(s);
        return;
    }
    let mut rest = s;
    while let Some(pos) = rest.find(is_escaped) {
        out.push_str(&rest[..pos]);
        let mut tail = rest[pos..].chars();
        let Some(c) = tail.next() else { break };
        let mut utf8 = [0_u8; 4];
        for &b in c.encode_utf8(&mut utf8).as_bytes() {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        }
        rest = tail.as_str();
    }
    out.push_str(rest);
}

/// Appends the parts of a key to its text. Handed to [`KeyPart::write_key`].
///
/// Every method writes one self-delimiting item, and the writer inserts all
/// separators itself, so no sequence of calls can produce an ambiguous key:
///
/// * leaf writes ([`str`](Self::str), the integers, [`bool`](Self::bool),
///   [`f64`](Self::f64), …) are *fields*; a field that is not the first of
///   its group is preceded by `:`;
/// * [`list`](Self::list) writes `[a,b,…]`: one field holding `,`-separated
///   items, each item its own group (a tuple item is written `a:b`);
/// * [`option`](Self::option) writes `~` for `None`, and for `Some(x)` the
///   encoding of `x`, with one extra leading `~` if that encoding itself
///   starts with `~` (so `Some(None)` is `~~`, distinct from `None`).
///
/// A list item or `Some` payload that writes nothing at all is written as `%`
/// (the same as `""`), so `[()]` differs from `[]`.
pub struct KeyWriter<'a> {
    buf: &'a mut String,
    /// No field has been written yet in the current group.
    first: bool,
}

impl<'a> KeyWriter<'a> {
    /// A writer appending a fresh group to `buf`.
    pub(crate) fn new(buf: &'a mut String) -> Self {
        KeyWriter { buf, first: true }
    }

    /// Writes `part` as the contents of a fresh group of `buf`.
    pub(crate) fn write_group<T: KeyPart + ?Sized>(buf: &mut String, part: &T) {
        part.write_key(&mut KeyWriter::new(buf));
    }

    /// Starts a field: inserts the `:` separator unless it is the group's first.
    fn begin_field(&mut self) {
        if !self.first {
            self.buf.push(':');
        }
        self.first = false;
    }

    /// Writes an unescaped leaf whose text cannot contain reserved characters.
    pub(crate) fn display_leaf(&mut self, value: impl Display) {
        self.begin_field();
        let _ = write!(self.buf, "{value}");
    }

    /// Writes a string field, escaped (`""` is written as `%`).
    pub fn str(&mut self, s: &str) {
        self.begin_field();
        escape_into(self.buf, s);
    }

    /// Writes a signed integer field in decimal (`-5`).
    pub fn i64(&mut self, v: i64) {
        self.integer_leaf(v);
    }

    /// Writes an unsigned integer field in decimal.
    pub fn u64(&mut self, v: u64) {
        self.integer_leaf(v);
    }

    /// Writes a signed 128-bit integer field in decimal.
    pub fn i128(&mut self, v: i128) {
        self.integer_leaf(v);
    }

    /// Writes an unsigned 128-bit integer field in decimal.
    pub fn u128(&mut self, v: u128) {
        self.integer_leaf(v);
    }

    /// Writes an integer in decimal, as `Display` would, without the formatting machinery
    /// (integers are the most common key part and this runs on every cached call).
    pub(crate) fn integer_leaf(&mut self, v: impl itoa::Integer) {
        self.begin_field();
        self.buf.push_str(itoa::Buffer::new().format(v));
    }

    /// Writes `true` or `false`.
    pub fn bool(&mut self, v: bool) {
        self.display_leaf(v);
    }

    /// Writes a float field with Rust's shortest round-trip representation
    /// (`1.0`, `-0.0`, `1e-7`, `NaN`, `inf`). `0.0` and `-0.0` give different
    /// keys, and every `NaN` gives the same key.
    pub fn f64(&mut self, v: f64) {
        self.display_leaf(format_args!("{v:?}"));
    }

    /// Writes an `f32` field with its own shortest round-trip representation
    /// (`0.1_f32` is `0.1`).
    pub fn f32(&mut self, v: f32) {
        self.display_leaf(format_args!("{v:?}"));
    }

    /// Writes any [`KeyPart`] into the current group (same as
    /// `part.write_key(self)`); a tuple's fields are flattened into the group.
    pub fn part<T: KeyPart + ?Sized>(&mut self, part: &T) {
        part.write_key(self);
    }

    /// Writes `items` as one list field `[a,b,…]`; each item is its own group.
    pub fn list<I>(&mut self, items: I)
    where
        I: IntoIterator,
        I::Item: KeyPart,
    {
        self.begin_field();
        self.buf.push('[');
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            let start = self.buf.len();
            KeyWriter::write_group(self.buf, &item);
            if self.buf.len() == start {
                self.buf.push('%');
            }
        }
        self.buf.push(']');
    }

    /// Writes an optional value: `None` is the field `~`; `Some(x)` is `x`'s
    /// encoding in the current group, with an extra leading `~` if it starts
    /// with `~`.
    pub fn option<T: KeyPart + ?Sized>(&mut self, value: Option<&T>) {
        let Some(inner) = value else {
            self.display_leaf('~');
            return;
        };
        let was_first = self.first;
        let start = self.buf.len();
        inner.write_key(self);
        if self.buf.len() == start {
            // `x` wrote nothing: give `Some` a field of its own.
            self.display_leaf('%');
            return;
        }
        // Every write of `x` began with its first field, so `x`'s encoding
        // starts right after the separator (if one was needed).
        let content = if was_first { start } else { start + 1 };
        if self.buf[content..].starts_with('~') {
            self.buf.insert(content, '~');
        }
    }
}

/// Encodes `part` alone, as the text of one group.
pub(crate) fn encode<T: KeyPart + ?Sized>(part: &T) -> String {
    let mut out = String::new();
    KeyWriter::write_group(&mut out, part);
    out
}

/// The first 128 bits of the SHA-256 of `text`, as 32 lowercase hex digits.
pub(crate) fn digest_hex(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

/// `prefix#digest`: the longest prefix of `full` (cut on a char boundary)
/// that fits in `max` bytes followed by `#` and [`digest_hex`] of `full`.
pub(crate) fn shorten(full: &str, max: usize) -> Box<str> {
    let budget = max.saturating_sub(33);
    let cut = (0..=budget.min(full.len()))
        .rev()
        .find(|&i| full.is_char_boundary(i))
        .unwrap_or(0);
    let mut out = String::with_capacity(max);
    out.push_str(full.get(..cut).unwrap_or_default());
    out.push('#');
    out.push_str(&digest_hex(full));
    out.into_boxed_str()
}
