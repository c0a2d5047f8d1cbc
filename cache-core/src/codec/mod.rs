//! The envelope: the byte format of a cache entry in the remote tier (its length before
//! compression is also what a local entry is charged).
//!
//! # Layout
//!
//! | bytes  | field       | meaning                                                           |
//! |--------|-------------|-------------------------------------------------------------------|
//! | 0      | format      | [`FORMAT_V1`] (`0xC1`); anything else is [`Error::UnknownFormat`]  |
//! | 1      | flags       | bit 0 ([`FLAG_COMPRESSED`]): payload is zstd; other bits are [`Error::UnknownFlags`] |
//! | 2..10  | fresh_until | `u64` big-endian, ms since the Unix epoch                         |
//! | 10..18 | stale_until | `u64` big-endian, ms since the Unix epoch, `>= fresh_until`       |
//! | 18..22 | load_micros | `u32` big-endian, how long the loader took (saturating)           |
//! | 22..   | payload     | MessagePack with named fields, or one or more zstd frames of it   |
//!
//! Structs are written as maps (named fields), so a release that adds a `#[serde(default)]`
//! field still reads older entries, and an older release ignores fields it does not know.
//! Payloads longer than [`CodecConfig::compress_threshold`] are compressed when that makes
//! them smaller; the frame always declares its content size.
//!
//! # Why decoding is bounded
//!
//! Entries come from a shared store, so their bytes are untrusted: corruption, another
//! program's data under the same key, or a crafted bomb (a few KiB of zstd that expand to
//! gigabytes). Decoding therefore:
//!
//! * never panics, whatever the input (input shorter than the header is [`Error::Truncated`]);
//! * rejects a frame whose header declares more than [`CodecConfig::max_decoded_bytes`] with
//!   [`Error::TooLarge`] before allocating anything;
//! * decompresses a single frame that declares at most 1 MiB in one call into a buffer of
//!   exactly the declared size, which zstd never writes past (a frame that produces more or
//!   less than it declared is [`Error::Decompress`]);
//! * streams everything else and stops with [`Error::TooLarge`] as soon as the real output
//!   passes the cap, so frames without a declared size, or concatenated after a small one,
//!   are bounded too; the first allocation is at most 1 MiB and growth never passes the cap
//!   (a single frame that outgrows its own declared size is refused by zstd:
//!   [`Error::Decompress`]);
//! * limits the zstd window to the cap rounded up to a power of two (at most 128 MiB), so a
//!   tiny frame cannot make zstd allocate a huge window;
//! * applies the same cap to uncompressed payloads.
//!
//! # Decisions
//!
//! * Trailing bytes after the MessagePack value are [`Error::Deserialize`]: the entry is not
//!   what this codec wrote, and accepting it would hide corruption.
//! * Concatenated zstd frames decode as one payload while their total stays within the cap;
//!   anything after the last frame that is not a frame is [`Error::Decompress`].
//! * [`Codec::encode`] refuses a payload larger than the cap ([`Error::TooLarge`]), since no
//!   reader with the same configuration could decode it.
//! * Each thread keeps one zstd context per direction and scratch buffers of up to 1 MiB
//!   each, reused across calls: encoding then allocates only the envelope it returns, and
//!   decoding only the value.

mod compress;
mod config;
mod header;
mod scratch;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};

pub use config::CodecConfig;
pub use header::{FLAG_COMPRESSED, FORMAT_V1, HEADER_LEN};

use crate::{Error, Result};

/// The timing metadata stored in every envelope header.
///
/// Times are absolute, in milliseconds since the Unix epoch, so every process sharing the
/// remote tier agrees on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EntryMeta {
    /// Until this instant the entry is served without refreshing.
    pub fresh_until_ms: u64,
    /// Until this instant the entry may still be served while a refresh runs. Encoding and
    /// decoding raise a lower value to `fresh_until_ms`.
    pub stale_until_ms: u64,
    /// How long the loader took to produce the value, in microseconds, saturated at
    /// `u32::MAX` (about 71 minutes); used for probabilistic early refresh.
    pub load_micros: u32,
}

/// Encodes values into envelopes and decodes them back, with bounded memory.
///
/// See the [module documentation](self) for the byte layout and the safety limits.
///
/// # Examples
///
/// ```
/// use cache_core::{Codec, CodecConfig, EntryMeta};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize)]
/// struct User {
///     id: u64,
///     name: String,
///     tags: Vec<String>,
/// }
///
/// let codec = Codec::new(CodecConfig::default().max_decoded_bytes(1 << 20));
/// let meta = EntryMeta {
///     fresh_until_ms: 1_700_000_060_000,
///     stale_until_ms: 1_700_000_360_000,
///     load_micros: 1_250,
/// };
/// let user = User { id: 7, name: "Ada".into(), tags: vec!["admin".into()] };
///
/// let bytes = codec.encode(&user, meta)?;
/// assert_eq!(Codec::decode_meta(&bytes)?, meta);
/// let (back_meta, back): (EntryMeta, User) = codec.decode(&bytes)?;
/// assert_eq!((back_meta, back), (meta, user));
/// # Ok::<(), cache_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Codec {
    config: CodecConfig,
}

impl Codec {
    /// A codec with the given configuration.
    pub fn new(config: CodecConfig) -> Codec {
        Codec { config }
    }

    /// The configuration this codec was built with.
    pub fn config(&self) -> &CodecConfig {
        &self.config
    }

    /// Serializes `value` (MessagePack, named fields) behind a header carrying `meta`.
    ///
    /// The payload is zstd-compressed when it is longer than
    /// [`compress_threshold`](CodecConfig::compress_threshold) and compression makes it
    /// smaller; a compression failure falls back to storing it uncompressed.
    ///
    /// # Errors
    ///
    /// [`Error::Serialize`] if `value` cannot be serialized; [`Error::TooLarge`] if the
    /// serialized payload is longer than [`max_decoded_bytes`](CodecConfig::max_decoded_bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// use cache_core::{Codec, EntryMeta};
    /// use cache_core::codec::HEADER_LEN;
    ///
    /// let codec = Codec::default();
    /// let value = "0123456789abcdef".repeat(256); // 4 KiB, very repetitive
    /// let bytes = codec.encode(&value, EntryMeta::default())?;
    /// assert!(Codec::is_compressed(&bytes));
    /// assert!(bytes.len() < value.len() / 4);
    ///
    /// let small = codec.encode("tiny", EntryMeta::default())?;
    /// assert!(!Codec::is_compressed(&small));
    /// assert_eq!(small.len(), HEADER_LEN + 5); // fixstr marker + 4 bytes
    /// # Ok::<(), cache_core::Error>(())
    /// ```
    pub fn encode<T: Serialize + ?Sized>(&self, value: &T, meta: EntryMeta) -> Result<Vec<u8>> {
        self.encode_weighed(value, meta).map(|(bytes, _)| bytes)
    }

    /// [`encode`](Codec::encode), also returning the envelope's length before compression
    /// (header plus MessagePack): what the decoded value is charged in the local tier, since
    /// a compressed length can understate it a hundredfold.
    pub(crate) fn encode_weighed<T: Serialize + ?Sized>(
        &self,
        value: &T,
        meta: EntryMeta,
    ) -> Result<(Vec<u8>, usize)> {
        scratch::with_buffer(&scratch::PAYLOAD, |payload| {
            rmp_serde::encode::write_named(payload, value).map_err(Error::serialize)?;
            let cap = self.config.max_decoded_bytes;
            if payload.len() > cap {
                return Err(Error::TooLarge { cap });
            }
            let plain_len = HEADER_LEN.saturating_add(payload.len());
            if payload.len() > self.config.compress_threshold
                && let Some(Some(compressed)) =
                    compress::compress(payload, self.config.compression_level, |frame| {
                        (frame.len() < payload.len())
                            .then(|| envelope(FLAG_COMPRESSED, &meta, frame))
                    })
            {
                return Ok((compressed, plain_len));
            }
            Ok((envelope(0, &meta, payload), plain_len))
        })
    }

    /// Decodes an envelope written by [`encode`](Codec::encode), with memory bounded by
    /// [`max_decoded_bytes`](CodecConfig::max_decoded_bytes) (see the
    /// [module documentation](self)).
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`], [`Error::UnknownFormat`] or [`Error::UnknownFlags`] for a bad
    /// header; [`Error::TooLarge`] if the payload is (or decompresses to) more than the cap;
    /// [`Error::Decompress`] if a compressed payload is not valid zstd;
    /// [`Error::Deserialize`] if the payload is not a MessagePack encoding of `T` or has
    /// trailing bytes after it.
    ///
    /// # Examples
    ///
    /// ```
    /// use cache_core::{Codec, EntryMeta, Error};
    ///
    /// let codec = Codec::default();
    /// let meta = EntryMeta { fresh_until_ms: 1_000, stale_until_ms: 2_000, load_micros: 30 };
    /// let bytes = codec.encode(&vec![1u32, 2, 3], meta)?;
    ///
    /// let (back_meta, numbers): (EntryMeta, Vec<u32>) = codec.decode(&bytes)?;
    /// assert_eq!((back_meta, numbers), (meta, vec![1, 2, 3]));
    ///
    /// // The wrong type, or bytes that are not an envelope, are errors, never panics.
    /// assert!(matches!(codec.decode::<String>(&bytes), Err(Error::Deserialize(_))));
    /// assert!(matches!(codec.decode::<String>(b"hi"), Err(Error::Truncated { .. })));
    /// # Ok::<(), cache_core::Error>(())
    /// ```
    pub fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<(EntryMeta, T)> {
        self.decode_weighed(bytes)
            .map(|(meta, value, _)| (meta, value))
    }

    /// [`decode`](Codec::decode), also returning the envelope's length before compression,
    /// as [`encode_weighed`](Codec::encode_weighed) does: the decompressed length, which
    /// decoding has at hand anyway.
    pub(crate) fn decode_weighed<T: DeserializeOwned>(
        &self,
        bytes: &[u8],
    ) -> Result<(EntryMeta, T, usize)> {
        let (flags, meta, payload) = header::read(bytes)?;
        let cap = self.config.max_decoded_bytes;
        let (value, payload_len) = if flags & FLAG_COMPRESSED != 0 {
            compress::decompress_bounded(payload, cap, |plain| {
                from_msgpack(plain).map(|value| (value, plain.len()))
            })?
        } else if payload.len() > cap {
            return Err(Error::TooLarge { cap });
        } else {
            (from_msgpack(payload)?, payload.len())
        };
        Ok((meta, value, HEADER_LEN.saturating_add(payload_len)))
    }

    /// Reads only the header of an envelope: no decompression, no deserialization.
    ///
    /// # Errors
    ///
    /// [`Error::Truncated`] if `bytes` is shorter than [`HEADER_LEN`]; [`Error::UnknownFormat`]
    /// or [`Error::UnknownFlags`] for a header this version does not understand.
    pub fn decode_meta(bytes: &[u8]) -> Result<EntryMeta> {
        header::read(bytes).map(|(_, meta, _)| meta)
    }

    /// Whether `bytes` is a valid envelope header whose payload is compressed; `false` for
    /// uncompressed envelopes and for anything [`decode_meta`](Codec::decode_meta) rejects.
    pub fn is_compressed(bytes: &[u8]) -> bool {
        header::read(bytes).is_ok_and(|(flags, _, _)| flags & FLAG_COMPRESSED != 0)
    }
}

/// A header carrying `flags` and `meta` followed by `payload`, in one exact allocation.
fn envelope(flags: u8, meta: &EntryMeta, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN.saturating_add(payload.len()));
    header::write(&mut out, flags, meta);
    out.extend_from_slice(payload);
    out
}

/// Deepest nesting of arrays, maps and extension values that decoding accepts.
const MAX_DEPTH: usize = 128;

/// Deserializes exactly one MessagePack value from `payload`, rejecting trailing bytes.
fn from_msgpack<T: DeserializeOwned>(payload: &[u8]) -> Result<T> {
    // The slice deserializer hands strings to the visitor straight from `payload` (no copy
    // through an intermediate buffer) and checks a declared length against the bytes really
    // left before using it, so a bogus length cannot allocate.
    let mut de = rmp_serde::Deserializer::from_read_ref(payload);
    // rmp-serde's default depth limit (1024) lets a crafted entry overflow a 2 MiB task stack;
    // no cached value nests anywhere near 128 levels.
    de.set_max_depth(MAX_DEPTH);
    let value = T::deserialize(&mut de).map_err(Error::deserialize)?;
    // The slice deserializer does not expose its position: the value ended the payload
    // exactly when reading one more marker finds the end of the input.
    match IgnoredAny::deserialize(&mut de) {
        Err(rmp_serde::decode::Error::InvalidMarkerRead(e))
            if e.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            Ok(value)
        }
        _ => Err(Error::Deserialize("trailing bytes after the value".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weight_of_a_compressed_entry_is_its_uncompressed_length() {
        let codec = Codec::default();
        let value = vec!["the same line of text, again and again".to_owned(); 5_000];
        let plain = rmp_serde::to_vec_named(&value).expect("serializes");
        let (bytes, weight) = codec
            .encode_weighed(&value, EntryMeta::default())
            .expect("encodes");
        assert!(Codec::is_compressed(&bytes));
        assert!(bytes.len() * 50 < weight, "{} vs {weight}", bytes.len());
        assert_eq!(weight, HEADER_LEN + plain.len());
        let (_, back, decoded_weight) = codec
            .decode_weighed::<Vec<String>>(&bytes)
            .expect("decodes");
        assert_eq!((back, decoded_weight), (value, weight));
    }

    #[test]
    fn the_weight_of_an_uncompressed_entry_is_its_length() {
        let codec = Codec::default();
        let (bytes, weight) = codec
            .encode_weighed("tiny", EntryMeta::default())
            .expect("encodes");
        assert_eq!(weight, bytes.len());
        let (_, _, decoded_weight) = codec.decode_weighed::<String>(&bytes).expect("decodes");
        assert_eq!(decoded_weight, bytes.len());
    }
}
