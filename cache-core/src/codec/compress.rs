//! zstd compression of payloads, and decompression bounded by a byte cap.
//!
//! Decompression never trusts the frame: the declared content size is only used to reject
//! early and to size the first allocation, and the real output is counted while streaming so
//! a frame that omits or lies about its size still cannot make the decoder hold more than
//! `cap + CHUNK` bytes of output.

use std::io::Read;

use zstd::stream::read::Decoder;
use zstd::zstd_safe;

use crate::{Error, Result};

/// Largest first allocation for the output buffer, whatever the frame declares.
const MAX_INITIAL_CAPACITY: usize = 1 << 20;

/// First allocation when the frame does not declare its content size.
const UNKNOWN_SIZE_INITIAL_CAPACITY: usize = 16 << 10;

/// Bytes pulled from the decoder per read.
const CHUNK: usize = 32 << 10;

/// Smallest and largest window log the decoder is allowed to accept (zstd's own minimum, and
/// the largest window zstd's compressor picks at any standard level, 128 MiB).
const WINDOW_LOG_RANGE: (u32, u32) = (10, 27);

/// Compresses `payload` into a single zstd frame that declares its content size.
///
/// Returns `None` when zstd fails; compression is only an optimisation, so the caller then
/// stores the payload uncompressed.
pub(super) fn compress(payload: &[u8], level: i32) -> Option<Vec<u8>> {
    // `bulk::compress` knows the whole input up front, so zstd writes the frame content size
    // into the frame header (ZSTD_c_contentSizeFlag defaults to 1).
    zstd::bulk::compress(payload, level).ok()
}

/// Decompresses one or more concatenated zstd frames, failing with [`Error::TooLarge`] as soon
/// as the output would exceed `cap` bytes and with [`Error::Decompress`] for anything zstd
/// rejects (garbage, truncation, content-size mismatch, a window larger than the cap allows).
pub(super) fn decompress_bounded(frame: &[u8], cap: usize) -> Result<Vec<u8>> {
    let declared = match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size > cap as u64 => return Err(Error::TooLarge { cap }),
        // `size <= cap`, so it fits in usize.
        Ok(Some(size)) => usize::try_from(size).ok(),
        Ok(None) => None,
        Err(_) => {
            return Err(Error::Decompress(
                "payload does not start with a valid zstd frame header".to_owned(),
            ));
        }
    };

    let mut decoder = Decoder::with_buffer(frame).map_err(decompress_error)?;
    decoder
        .window_log_max(window_log_for(cap))
        .map_err(decompress_error)?;

    let initial = declared
        .unwrap_or(UNKNOWN_SIZE_INITIAL_CAPACITY)
        .min(cap)
        .min(MAX_INITIAL_CAPACITY);
    let mut out: Vec<u8> = Vec::new();
    out.try_reserve_exact(initial)
        .map_err(|_| Error::TooLarge { cap })?;
    let mut chunk = vec![0u8; CHUNK];

    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(decompress_error(e)),
        };
        let Some(data) = chunk.get(..n) else {
            return Err(Error::Decompress(
                "zstd reported more output than it wrote".to_owned(),
            ));
        };
        let needed = out.len().saturating_add(data.len());
        if needed > cap {
            return Err(Error::TooLarge { cap });
        }
        if needed > out.capacity() {
            // Grow geometrically but never past what is allowed: up to the declared size while
            // the frame is honest, up to the cap once it has produced more than it declared.
            let ceiling = match declared {
                Some(size) if needed <= size => size,
                _ => cap,
            };
            let target = out.capacity().saturating_mul(2).max(needed).min(ceiling);
            out.try_reserve_exact(target.saturating_sub(out.len()))
                .map_err(|_| Error::TooLarge { cap })?;
        }
        out.extend_from_slice(data);
    }
}

/// The largest zstd window (as a power of two) a frame may need to decode at most `cap` bytes.
///
/// Frames written by [`compress`] never need a window bigger than their content, so this
/// rejects nothing we wrote ourselves while stopping a small frame from making zstd allocate a
/// 128 MiB window.
fn window_log_for(cap: usize) -> u32 {
    let log = cap
        .checked_next_power_of_two()
        .map_or(usize::BITS, usize::trailing_zeros);
    log.clamp(WINDOW_LOG_RANGE.0, WINDOW_LOG_RANGE.1)
}

fn decompress_error(e: std::io::Error) -> Error {
    Error::Decompress(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_frames_declare_their_size() {
        let payload = vec![7u8; 10_000];
        let frame = compress(&payload, 1).expect("compresses");
        assert!(matches!(
            zstd_safe::get_frame_content_size(&frame),
            Ok(Some(10_000))
        ));
        assert_eq!(decompress_bounded(&frame, 10_000), Ok(payload));
        assert_eq!(
            decompress_bounded(&frame, 9_999),
            Err(Error::TooLarge { cap: 9_999 })
        );
    }

    #[test]
    fn window_log_tracks_cap() {
        assert_eq!(window_log_for(0), 10);
        assert_eq!(window_log_for(1000), 10);
        assert_eq!(window_log_for(1025), 11);
        assert_eq!(window_log_for(1 << 20), 20);
        assert_eq!(window_log_for((1 << 20) + 1), 21);
        assert_eq!(window_log_for(64 << 20), 26);
        assert_eq!(window_log_for(usize::MAX), 27);
    }

    #[test]
    fn high_levels_still_decode_at_their_size() {
        for len in [1usize, 1000, 1024, 4097, 300_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let frame = compress(&payload, 19).expect("compresses");
            assert_eq!(decompress_bounded(&frame, len), Ok(payload));
        }
    }
}
