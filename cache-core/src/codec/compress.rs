//! zstd compression of payloads, and decompression bounded by a byte cap.
//!
//! Both directions reuse per-thread state: one zstd context each way and the scratch buffers
//! of [`scratch`](super::scratch), so a steady stream of entries allocates only the bytes it
//! returns.
//!
//! Decompression never trusts the frame. A single frame that declares a content size of at
//! most [`ONE_SHOT_LIMIT`] is decompressed in one call into a buffer of exactly that size:
//! zstd refuses to write past the buffer and checks that the frame produced what it declared.
//! Anything else (no declared size, a larger one, several concatenated frames) is streamed
//! and the real output is counted, so it cannot make the decoder hold more than `cap + CHUNK`
//! bytes of output.

use std::cell::Cell;
use std::io::Read;

use zstd::stream::read::Decoder;
use zstd::zstd_safe::{self, CCtx, DCtx};

use super::scratch;
use crate::{Error, Result};

/// Largest declared size decompressed in one shot, and largest first allocation of the
/// streaming path, whatever the frame declares.
const ONE_SHOT_LIMIT: usize = 1 << 20;

/// First allocation when the frame does not declare its content size.
const UNKNOWN_SIZE_INITIAL_CAPACITY: usize = 16 << 10;

/// Bytes pulled from the decoder per read.
const CHUNK: usize = 32 << 10;

/// Smallest and largest window log the decoder is allowed to accept (zstd's own minimum, and
/// the largest window zstd's compressor picks at any standard level, 128 MiB).
const WINDOW_LOG_RANGE: (u32, u32) = (10, 27);

thread_local! {
    /// This thread's compression context (`None` until first used, or while in use).
    static CCTX: Cell<Option<CCtx<'static>>> = const { Cell::new(None) };
    /// This thread's one-shot decompression context.
    static DCTX: Cell<Option<DCtx<'static>>> = const { Cell::new(None) };
}

/// Runs `f` with this thread's context from `slot` (a new one if it is in use or gone), and
/// puts the context back for the next call.
fn with_context<C, R>(
    slot: &'static std::thread::LocalKey<Cell<Option<C>>>,
    create: fn() -> C,
    f: impl FnOnce(&mut C) -> R,
) -> R {
    let mut context = slot
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(create);
    let result = f(&mut context);
    // Fails only while the thread is exiting; the context is then simply freed.
    let _ = slot.try_with(|cell| cell.set(Some(context)));
    result
}

/// Compresses `payload` into a single zstd frame that declares its content size, then passes
/// the frame to `emit` (the frame lives in a reused buffer, so `emit` copies what it keeps).
///
/// Returns `None` when zstd fails; compression is only an optimisation, so the caller then
/// stores the payload uncompressed.
pub(super) fn compress<R>(payload: &[u8], level: i32, emit: impl FnOnce(&[u8]) -> R) -> Option<R> {
    scratch::with_buffer(&scratch::FRAME, |frame| {
        frame
            .try_reserve_exact(zstd_safe::compress_bound(payload.len()))
            .ok()?;
        // `ZSTD_compressCCtx` knows the whole input up front, so zstd writes the frame content
        // size into the frame header (ZSTD_c_contentSizeFlag defaults to 1).
        with_context(&CCTX, CCtx::create, |cctx| {
            cctx.compress(frame, payload, level)
        })
        .ok()?;
        Some(emit(frame))
    })
}

/// Decompresses one or more concatenated zstd frames and passes the payload to `read`,
/// failing with [`Error::TooLarge`] as soon as the output would exceed `cap` bytes and with
/// [`Error::Decompress`] for anything zstd rejects (garbage, truncation, content-size
/// mismatch, a window larger than the cap allows).
pub(super) fn decompress_bounded<R>(
    frame: &[u8],
    cap: usize,
    read: impl FnOnce(&[u8]) -> Result<R>,
) -> Result<R> {
    let declared = match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size > cap as u64 => return Err(Error::TooLarge { cap }),
        // `size <= cap`, so it fits in usize.
        Ok(Some(size)) => usize::try_from(size).ok(),
        Ok(None) => None,
        Err(_) => {
            return Err(Error::Decompress(
                "payload does not start with a valid zstd frame header".into(),
            ));
        }
    };
    scratch::with_buffer(&scratch::PAYLOAD, |out| {
        match declared {
            Some(size) if size <= ONE_SHOT_LIMIT && is_single_frame(frame) => {
                one_shot(frame, size, out, cap)?;
            }
            _ => stream(frame, declared, out, cap)?,
        }
        read(out)
    })
}

/// Whether `frame` is exactly one complete zstd frame.
fn is_single_frame(frame: &[u8]) -> bool {
    zstd_safe::find_frame_compressed_size(frame) == Ok(frame.len())
}

/// Decompresses a single frame that declares `size` bytes into `out`, which zstd never
/// writes past; zstd itself fails a frame that produces a different size.
fn one_shot(frame: &[u8], size: usize, out: &mut Vec<u8>, cap: usize) -> Result<()> {
    out.try_reserve_exact(size)
        .map_err(|_| Error::TooLarge { cap })?;
    let written = with_context(&DCTX, DCtx::create, |dctx| dctx.decompress(out, frame))
        .map_err(|code| Error::Decompress(zstd_safe::get_error_name(code).into()))?;
    if written != size {
        return Err(Error::Decompress(
            format!("frame declared {size} bytes but produced {written}").into(),
        ));
    }
    Ok(())
}

/// Streams every frame of `frame` into `out`, counting the real output against `cap`.
fn stream(frame: &[u8], declared: Option<usize>, out: &mut Vec<u8>, cap: usize) -> Result<()> {
    let mut decoder = Decoder::with_buffer(frame).map_err(decompress_error)?;
    decoder
        .window_log_max(window_log_for(cap))
        .map_err(decompress_error)?;

    let initial = declared
        .unwrap_or(UNKNOWN_SIZE_INITIAL_CAPACITY)
        .min(cap)
        .min(ONE_SHOT_LIMIT);
    out.try_reserve_exact(initial)
        .map_err(|_| Error::TooLarge { cap })?;
    let mut chunk = vec![0u8; CHUNK];

    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(decompress_error(e)),
        };
        let Some(data) = chunk.get(..n) else {
            return Err(Error::Decompress(
                "zstd reported more output than it wrote".into(),
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
    Error::decompress(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress_vec(payload: &[u8], level: i32) -> Vec<u8> {
        compress(payload, level, <[u8]>::to_vec).expect("compresses")
    }

    fn decompress_vec(frame: &[u8], cap: usize) -> Result<Vec<u8>> {
        decompress_bounded(frame, cap, |payload| Ok(payload.to_vec()))
    }

    #[test]
    fn compressed_frames_declare_their_size() {
        let payload = vec![7u8; 10_000];
        let frame = compress_vec(&payload, 1);
        assert!(matches!(
            zstd_safe::get_frame_content_size(&frame),
            Ok(Some(10_000))
        ));
        assert_eq!(decompress_vec(&frame, 10_000), Ok(payload));
        assert_eq!(
            decompress_vec(&frame, 9_999),
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
    fn levels_and_sizes_on_both_paths_decode_at_their_size() {
        // 300 KB and 2 MB are past `ONE_SHOT_LIMIT`'s neighbourhood on either side.
        for len in [1usize, 1000, 1024, 4097, 300_000, 2_000_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for level in [-5, 1, 19] {
                let frame = compress_vec(&payload, level);
                assert_eq!(
                    decompress_vec(&frame, len),
                    Ok(payload.clone()),
                    "{len} @ {level}"
                );
            }
        }
    }

    #[test]
    fn a_frame_that_overstates_its_size_is_an_error() {
        let frame = compress_vec(&[5u8; 5_000], 1);
        let mut liar = frame.clone();
        // Single-segment frame: magic (4) | descriptor (1) | 2-byte content size (value - 256).
        assert_eq!(liar[4] >> 6, 1, "expected a 2-byte content size field");
        assert_ne!(liar[4] & 0x20, 0, "expected a single-segment frame");
        liar[5..7].copy_from_slice(&(6_000u16 - 256).to_le_bytes());
        assert!(matches!(
            decompress_vec(&liar, 1 << 20),
            Err(Error::Decompress(_))
        ));
        assert_eq!(decompress_vec(&frame, 1 << 20), Ok(vec![5u8; 5_000]));
    }
}
