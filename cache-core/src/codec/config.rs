//! [`CodecConfig`]: compression threshold and level, and the decode cap.

/// Tuning for a [`Codec`](super::Codec).
///
/// ```
/// let config = cache_core::CodecConfig::default().compression_level(3).max_decoded_bytes(1 << 20);
/// assert_eq!((config.compress_threshold, config.compression_level), (1024, 3));
/// ```
#[derive(Debug, Clone)]
pub struct CodecConfig {
    /// Payloads longer than this many bytes are compressed (if that makes them smaller).
    /// Default 1024; `usize::MAX` disables compression.
    pub compress_threshold: usize,
    /// zstd compression level. Default 1 (fast); zstd clamps out-of-range levels and treats
    /// 0 as its default level (3).
    ///
    /// Measured on a 215 KB MessagePack list of 800 records (benches `codec`): negative levels
    /// (down to -7) save at most a quarter of the compression time for 10–55 % larger
    /// entries; levels 2–3 cost 20–30 % more time for no gain and 4–19 cost 4–500× the time
    /// for 5–15 % smaller entries.
    pub compression_level: i32,
    /// Largest payload, after decompression, that decoding accepts and encoding produces.
    /// Default 64 MiB.
    pub max_decoded_bytes: usize,
}

impl Default for CodecConfig {
    fn default() -> Self {
        CodecConfig {
            compress_threshold: 1024,
            compression_level: 1,
            max_decoded_bytes: 64 << 20,
        }
    }
}

impl CodecConfig {
    /// Sets [`compress_threshold`](CodecConfig#structfield.compress_threshold).
    #[must_use]
    pub fn compress_threshold(mut self, bytes: usize) -> Self {
        self.compress_threshold = bytes;
        self
    }

    /// Sets [`compression_level`](CodecConfig#structfield.compression_level).
    #[must_use]
    pub fn compression_level(mut self, level: i32) -> Self {
        self.compression_level = level;
        self
    }

    /// Sets [`max_decoded_bytes`](CodecConfig#structfield.max_decoded_bytes).
    #[must_use]
    pub fn max_decoded_bytes(mut self, bytes: usize) -> Self {
        self.max_decoded_bytes = bytes;
        self
    }
}
