//! The fixed 22-byte envelope header: format byte, flags byte and [`EntryMeta`].
//!
//! Reading the header never touches the payload, so it is cheap enough to run on every
//! remote-tier hit (for example to decide whether an entry is fresh before decompressing it).

use super::EntryMeta;
use crate::{Error, Result};

/// Format byte of the first (and so far only) envelope version.
pub const FORMAT_V1: u8 = 0xC1;

/// Length in bytes of the fixed envelope header that precedes the payload.
pub const HEADER_LEN: usize = 22;

/// Flag bit set when the payload is a zstd frame rather than plain MessagePack.
pub const FLAG_COMPRESSED: u8 = 0x01;

/// Every flag bit this version understands.
const KNOWN_FLAGS: u8 = FLAG_COMPRESSED;

/// Appends a header to `out` (which is normally empty).
///
/// `stale_until_ms` is written as `max(stale_until_ms, fresh_until_ms)` so the stored header
/// always satisfies the format's invariant.
pub(super) fn write(out: &mut Vec<u8>, flags: u8, meta: &EntryMeta) {
    out.reserve(HEADER_LEN);
    out.push(FORMAT_V1);
    out.push(flags);
    out.extend_from_slice(&meta.fresh_until_ms.to_be_bytes());
    out.extend_from_slice(&meta.stale_until_ms.max(meta.fresh_until_ms).to_be_bytes());
    out.extend_from_slice(&meta.load_micros.to_be_bytes());
}

/// Parses and validates the header of `bytes`, returning its flags byte, its metadata and the
/// payload that follows it.
///
/// Checks, in order: length (→ [`Error::Truncated`]), format byte (→ [`Error::UnknownFormat`])
/// and flag bits (→ [`Error::UnknownFlags`], carrying only the unknown bits).
pub(super) fn read(bytes: &[u8]) -> Result<(u8, EntryMeta, &[u8])> {
    let Some((header, payload)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(Error::Truncated {
            needed: HEADER_LEN,
            found: bytes.len(),
        });
    };
    let [format, flags, rest @ ..] = *header;
    if format != FORMAT_V1 {
        return Err(Error::UnknownFormat(format));
    }
    let unknown = flags & !KNOWN_FLAGS;
    if unknown != 0 {
        return Err(Error::UnknownFlags(unknown));
    }
    let (fresh, rest) = split::<8>(&rest);
    let (stale, rest) = split::<8>(rest);
    let (load, _) = split::<4>(rest);
    let fresh_until_ms = u64::from_be_bytes(fresh);
    let meta = EntryMeta {
        fresh_until_ms,
        stale_until_ms: u64::from_be_bytes(stale).max(fresh_until_ms),
        load_micros: u32::from_be_bytes(load),
    };
    Ok((flags, meta, payload))
}

/// Splits `N` bytes off the front of a slice whose length is fixed by the caller; the
/// zero-filled fallback is unreachable for the 20-byte header tail but keeps this panic-free.
fn split<const N: usize>(bytes: &[u8]) -> ([u8; N], &[u8]) {
    match bytes.split_first_chunk::<N>() {
        Some((head, tail)) => (*head, tail),
        None => ([0; N], &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_big_endian_at_fixed_offsets() {
        let meta = EntryMeta {
            fresh_until_ms: 0x0102_0304_0506_0708,
            stale_until_ms: 0x1112_1314_1516_1718,
            load_micros: 0x2122_2324,
        };
        let mut out = Vec::new();
        write(&mut out, FLAG_COMPRESSED, &meta);
        assert_eq!(out.len(), HEADER_LEN);
        assert_eq!(out[0], FORMAT_V1);
        assert_eq!(out[1], FLAG_COMPRESSED);
        assert_eq!(out[2..10], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            out[10..18],
            [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]
        );
        assert_eq!(out[18..22], [0x21, 0x22, 0x23, 0x24]);
        let (flags, back, payload) = read(&out).expect("valid header");
        assert_eq!((flags, back, payload.len()), (FLAG_COMPRESSED, meta, 0));
    }

    #[test]
    fn stale_is_never_before_fresh() {
        let meta = EntryMeta {
            fresh_until_ms: 10,
            stale_until_ms: 5,
            load_micros: 0,
        };
        let mut out = Vec::new();
        write(&mut out, 0, &meta);
        let (_, back, _) = read(&out).expect("valid header");
        assert_eq!(back.stale_until_ms, 10);
    }
}
