//! The crate's one error type.

use std::time::Duration;

/// Everything that can go wrong inside the cache itself.
///
/// Loader errors are never wrapped in this type: they are returned to the caller untouched
/// (see [`Cache::get_or_load`](crate::Cache::get_or_load)). These variants describe failures of
/// the cache machinery, which the engine turns into misses plus a metric rather than failed calls.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes end before the envelope header or the declared payload does.
    #[error("cache entry is truncated: needed {needed} bytes, found {found}")]
    Truncated {
        /// Bytes the decoder needed to continue.
        needed: usize,
        /// Bytes that were present.
        found: usize,
    },
    /// The first byte is not an envelope format this version understands.
    #[error(
        "cache entry has unknown format byte {0:#04x}; it was written by another program or a newer release"
    )]
    UnknownFormat(u8),
    /// The flags byte has bits this version does not understand.
    #[error("cache entry has unknown flag bits {0:#04x}")]
    UnknownFlags(u8),
    /// The decompressed payload would be larger than the configured cap.
    #[error(
        "cache entry decompresses to more than the {cap}-byte cap; raise CodecConfig::max_decoded_bytes if this is legitimate"
    )]
    TooLarge {
        /// The configured cap in bytes.
        cap: usize,
    },
    /// zstd rejected the compressed payload.
    #[error("cache entry is not valid zstd: {0}")]
    Decompress(String),
    /// The value could not be serialized to MessagePack.
    #[error("value could not be serialized: {0}")]
    Serialize(String),
    /// The payload is not a MessagePack encoding of the requested type.
    #[error("cache entry does not decode as the requested type: {0}")]
    Deserialize(String),
    /// A remote tier call failed (connection refused, protocol error, …).
    #[error("remote tier error: {0}")]
    Remote(String),
    /// A remote tier call did not answer in time.
    #[error("remote tier did not answer within {0:?}")]
    RemoteTimeout(Duration),
    /// The remote tier is known to be down (its circuit breaker is open) and was not asked.
    #[error("remote tier unavailable (circuit breaker open)")]
    RemoteUnavailable,
    /// The remote tier does not support this operation.
    #[error("remote tier does not support {0}")]
    Unsupported(&'static str),
    /// The metrics pipeline could not be set up.
    #[error("metrics setup failed: {0}")]
    Metrics(String),
}

impl Error {
    /// A short, stable label for the `error.type` metric attribute.
    ///
    /// ```
    /// assert_eq!(cache_core::Error::UnknownFormat(7).kind(), "format");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Truncated { .. } => "truncated",
            Error::UnknownFormat(_) | Error::UnknownFlags(_) => "format",
            Error::TooLarge { .. } => "too_large",
            Error::Decompress(_) => "decompress",
            Error::Serialize(_) => "serialize",
            Error::Deserialize(_) => "deserialize",
            Error::Remote(_) => "remote",
            Error::RemoteTimeout(_) => "timeout",
            Error::RemoteUnavailable => "unavailable",
            Error::Unsupported(_) => "unsupported",
            Error::Metrics(_) => "metrics",
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
