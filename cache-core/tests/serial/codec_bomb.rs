//! Decompression-bomb resistance, measured with a counting global allocator.
//!
//! The allocator is the `serial` binary's, so it sees only that binary's tests, and the binary's
//! `SERIAL` mutex keeps them from running concurrently, so each one's peak belongs to it alone. (zstd's own
//! context and window are allocated by C `malloc` and are not counted; they are bounded
//! separately by the window limit the codec sets.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_core::codec::{FLAG_COMPRESSED, FORMAT_V1, HEADER_LEN};
use cache_core::{Codec, CodecConfig, Error};

use crate::SERIAL;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(by: usize) {
        let now = CURRENT.fetch_add(by, Ordering::SeqCst) + by;
        PEAK.fetch_max(now, Ordering::SeqCst);
    }

    fn shrank(by: usize) {
        CURRENT.fetch_sub(by, Ordering::SeqCst);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so it
// upholds `GlobalAlloc`'s contract exactly as `System` does; the counters are plain atomics
// and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller guarantees `layout` has non-zero size, as `System.alloc` requires.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            Self::grew(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            Self::grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (hence from `System`)
        // with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        Self::shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr`/`layout` describe a live block from `System`
        // and that `new_size` is valid for `layout.align()`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                Self::grew(new_size - layout.size());
            } else {
                Self::shrank(layout.size() - new_size);
            }
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: usize = 1 << 20;

/// Runs `f` and returns its result with the peak heap growth (bytes above the level at the
/// start) seen while it ran.
fn peak_growth<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let result = f();
    let growth = PEAK.load(Ordering::SeqCst).saturating_sub(base);
    (result, growth)
}

/// A zstd frame of `total` zeros, streamed in 1 MiB chunks so it is never held in memory.
/// With `declare`, the frame header states the content size.
fn zeros_frame(total: u64, declare: bool) -> Vec<u8> {
    let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    encoder.include_contentsize(declare).unwrap();
    encoder
        .set_pledged_src_size(declare.then_some(total))
        .unwrap();
    let chunk = vec![0u8; MIB];
    let mut left = total;
    while left > 0 {
        let n = left.min(MIB as u64) as usize;
        encoder.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    encoder.finish().unwrap()
}

fn envelope(frame: &[u8]) -> Vec<u8> {
    let mut bytes = vec![FORMAT_V1, FLAG_COMPRESSED];
    bytes.extend_from_slice(&[0; HEADER_LEN - 2]);
    bytes.extend_from_slice(frame);
    bytes
}

#[test]
fn declared_gigabyte_is_rejected_without_allocating() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let frame = zeros_frame(1 << 30, true);
    assert!(matches!(
        zstd::zstd_safe::get_frame_content_size(&frame),
        Ok(Some(size)) if size == 1 << 30
    ));
    let bomb = envelope(&frame);
    assert!(bomb.len() < 64 << 10, "bomb is {} bytes", bomb.len());
    let codec = Codec::default();

    let (result, growth) = peak_growth(|| codec.decode::<serde_json::Value>(&bomb));
    assert_eq!(result.unwrap_err(), Error::TooLarge { cap: 64 * MIB });
    assert!(growth < 8 * MIB, "peak growth {growth} bytes");
}

#[test]
fn undeclared_size_is_bounded_by_the_cap() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let frame = zeros_frame(64 * MIB as u64, false);
    assert!(matches!(
        zstd::zstd_safe::get_frame_content_size(&frame),
        Ok(None)
    ));
    let bomb = envelope(&frame);
    assert!(bomb.len() < 8 << 10, "bomb is {} bytes", bomb.len());
    let codec = Codec::new(CodecConfig::default().max_decoded_bytes(16 * MIB));

    let (result, growth) = peak_growth(|| codec.decode::<serde_json::Value>(&bomb));
    assert_eq!(result.unwrap_err(), Error::TooLarge { cap: 16 * MIB });
    assert!(growth < 16 * MIB + 8 * MIB, "peak growth {growth} bytes");
}

#[test]
fn frames_that_understate_their_size_are_bounded() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cap = 4 * MIB;
    let codec = Codec::new(CodecConfig::default().max_decoded_bytes(cap));

    // The first frame's header declares 100 bytes; a second frame, with no declared size,
    // follows it and expands to 64 MiB.
    let mut frames = zeros_frame(100, true);
    assert!(matches!(
        zstd::zstd_safe::get_frame_content_size(&frames),
        Ok(Some(100))
    ));
    frames.extend(zeros_frame(64 * MIB as u64, false));
    let bomb = envelope(&frames);
    let (result, growth) = peak_growth(|| codec.decode::<serde_json::Value>(&bomb));
    assert_eq!(result.unwrap_err(), Error::TooLarge { cap });
    assert!(growth < cap + 8 * MIB, "peak growth {growth} bytes");

    // A single frame whose header is patched to declare 1000 bytes while its blocks expand to
    // 32 MiB: zstd sizes its buffer from the declared size and refuses the first block that
    // overruns it, so this never gets near the cap either.
    let mut liar = zeros_frame(32 * MIB as u64, true);
    // Header: magic (4) | descriptor (1) | window (1) | 4-byte little-endian content size.
    assert_eq!(liar[4] >> 6, 2, "expected a 4-byte content size field");
    assert_eq!(liar[4] & 0x20, 0, "expected a window descriptor");
    liar[6..10].copy_from_slice(&1000u32.to_le_bytes());
    assert!(matches!(
        zstd::zstd_safe::get_frame_content_size(&liar),
        Ok(Some(1000))
    ));
    let bomb = envelope(&liar);
    let (result, growth) = peak_growth(|| codec.decode::<serde_json::Value>(&bomb));
    assert!(
        matches!(result, Err(Error::TooLarge { .. } | Error::Decompress(_))),
        "{result:?}"
    );
    assert!(growth < cap + 8 * MIB, "peak growth {growth} bytes");
}

#[test]
fn msgpack_lengths_are_not_trusted() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let codec = Codec::default();
    // str32, bin32 and array32 headers that declare ~4 GiB, followed by a few real bytes.
    for marker in [0xDB, 0xC6, 0xDD] {
        let mut payload = vec![marker, 0xFF, 0xFF, 0xFF, 0xF0];
        payload.extend_from_slice(b"only a little data");
        let mut bytes = vec![FORMAT_V1, 0];
        bytes.extend_from_slice(&[0; HEADER_LEN - 2]);
        bytes.extend_from_slice(&payload);
        let (result, growth) = peak_growth(|| codec.decode::<serde_json::Value>(&bytes));
        assert!(matches!(result, Err(Error::Deserialize(_))), "{result:?}");
        assert!(
            growth < 8 * MIB,
            "marker {marker:#x}: peak growth {growth} bytes"
        );
    }
}
