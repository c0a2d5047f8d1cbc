//! The crate's one error type, and [`Cause`], the underlying error some variants keep.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong inside the cache itself.
///
/// Loader errors are never wrapped in this type: they are returned to the caller untouched
/// (see [`Cache::get_or_load`](crate::Cache::get_or_load)). These variants describe failures of
/// the cache machinery, which the engine turns into misses plus a metric rather than failed calls.
///
/// Variants caused by another library's error keep it as their [`source`](std::error::Error::source)
/// (a [`Cause`]), so error reporters show the whole chain; their message repeats the cause's
/// text, which keeps log lines and `to_string()` self-contained.
///
/// ```
/// use std::error::Error as _;
/// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
/// let err = cache_core::Error::remote(io);
/// assert_eq!(err.kind(), "remote");
/// assert_eq!(err.to_string(), "remote tier error: refused");
/// assert!(err.source().is_some());
/// ```
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
    Decompress(#[source] Cause),
    /// The value could not be serialized to MessagePack.
    #[error("value could not be serialized: {0}")]
    Serialize(#[source] Cause),
    /// The payload is not a MessagePack encoding of the requested type.
    #[error("cache entry does not decode as the requested type: {0}")]
    Deserialize(#[source] Cause),
    /// A remote tier call failed (connection refused, protocol error, …).
    #[error("remote tier error: {0}")]
    Remote(#[source] Cause),
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
    Metrics(#[source] Cause),
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

    /// [`Error::Remote`] caused by `error` (what a remote tier's client library reported).
    pub fn remote(error: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Remote(Cause::new(error))
    }

    /// [`Error::Decompress`] caused by `error`.
    pub fn decompress(error: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Decompress(Cause::new(error))
    }

    /// [`Error::Serialize`] caused by `error`.
    pub fn serialize(error: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Serialize(Cause::new(error))
    }

    /// [`Error::Deserialize`] caused by `error`.
    pub fn deserialize(error: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Deserialize(Cause::new(error))
    }

    /// [`Error::Metrics`] caused by `error`.
    pub fn metrics(error: impl std::error::Error + Send + Sync + 'static) -> Error {
        Error::Metrics(Cause::new(error))
    }
}

/// The error underneath an [`Error`]: kept whole for [`source`](std::error::Error::source)
/// chains and [`downcast_ref`](Cause::downcast_ref), shared so that `Error` stays `Clone`.
///
/// A cause reads as its message (`Deref<Target = str>`), as the `String` these variants
/// carried before did, and two causes are equal when their messages are. A cause built from
/// text alone ([`Cause::message`], or `From<&str>` / `From<String>`) has no error underneath.
///
/// ```
/// use cache_core::{Cause, Error};
/// let err = Error::Remote(Cause::new(std::fmt::Error));
/// let Error::Remote(cause) = &err else { unreachable!() };
/// assert!(cause.downcast_ref::<std::fmt::Error>().is_some());
/// assert!(cause.contains("formatting"));
/// assert_eq!(Error::Remote("down".into()), Error::Remote(Cause::message("down")));
/// ```
#[derive(Clone)]
pub struct Cause {
    /// Rendered once: causes are compared and read as text.
    message: Arc<str>,
    error: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Cause {
    /// The cause `error`.
    pub fn new(error: impl std::error::Error + Send + Sync + 'static) -> Cause {
        Cause {
            message: error.to_string().into(),
            error: Some(Arc::new(error)),
        }
    }

    /// A cause known only by its description (no error underneath).
    pub fn message(text: impl Into<String>) -> Cause {
        Cause {
            message: text.into().into(),
            error: None,
        }
    }

    /// The error underneath, if the cause was built from one.
    pub fn get_ref(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.error.as_deref()
    }

    /// The error underneath, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.get_ref()?.downcast_ref::<E>()
    }
}

impl Deref for Cause {
    type Target = str;

    fn deref(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            Some(error) => fmt::Debug::fmt(error, f),
            None => fmt::Debug::fmt(&*self.message, f),
        }
    }
}

/// A cause stands in the chain for the error underneath: it shows that error's text, and
/// what comes after it is that error's own source.
impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.as_deref()?.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.message == other.message
    }
}

impl Eq for Cause {}

impl From<&str> for Cause {
    fn from(text: &str) -> Cause {
        Cause::message(text)
    }
}

impl From<String> for Cause {
    fn from(text: String) -> Cause {
        Cause::message(text)
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
