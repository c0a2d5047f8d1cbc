//! Per-thread scratch buffers, so encoding and decoding do not allocate (and, for entries past
//! the allocator's mmap threshold, do not fault in fresh pages) on every call.
//!
//! A buffer is taken out of its slot for the duration of one call and put back afterwards, so
//! a nested call (a `Serialize` impl that itself encodes an entry) simply gets a fresh buffer.
//! Buffers that grew past [`RETAIN_LIMIT`] are freed instead of kept, which bounds what an
//! idle thread holds to a few MiB.

use std::cell::Cell;
use std::thread::LocalKey;

/// Largest capacity a scratch buffer keeps between calls.
pub(super) const RETAIN_LIMIT: usize = 1 << 20;

thread_local! {
    /// Serialized MessagePack before compression, or decompressed MessagePack before
    /// deserialization.
    pub(super) static PAYLOAD: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// A compressed frame before it is copied behind the header.
    pub(super) static FRAME: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` with the (empty) buffer of `slot`, then keeps the buffer for the next call unless
/// it grew past [`RETAIN_LIMIT`].
pub(super) fn with_buffer<R>(
    slot: &'static LocalKey<Cell<Vec<u8>>>,
    f: impl FnOnce(&mut Vec<u8>) -> R,
) -> R {
    let mut buffer = slot.try_with(Cell::take).unwrap_or_default();
    buffer.clear();
    let result = f(&mut buffer);
    if buffer.capacity() <= RETAIN_LIMIT {
        // Fails only while the thread is exiting; the buffer is then simply freed.
        let _ = slot.try_with(|cell| cell.set(buffer));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static TEST_SLOT: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    }

    fn capacity() -> usize {
        let buffer = TEST_SLOT.take();
        let capacity = buffer.capacity();
        TEST_SLOT.set(buffer);
        capacity
    }

    #[test]
    fn buffers_are_reused_up_to_the_limit() {
        with_buffer(&TEST_SLOT, |b| b.extend_from_slice(&[1; 1000]));
        let kept = capacity();
        assert!(kept >= 1000);
        with_buffer(&TEST_SLOT, |b| {
            assert!(b.is_empty());
            assert_eq!(b.capacity(), kept);
        });
        with_buffer(&TEST_SLOT, |b| b.resize(RETAIN_LIMIT + 1, 0));
        assert_eq!(capacity(), 0);
    }

    #[test]
    fn nested_calls_get_their_own_buffer() {
        with_buffer(&TEST_SLOT, |outer| {
            outer.push(1);
            with_buffer(&TEST_SLOT, |inner| {
                assert!(inner.is_empty());
                inner.push(2);
            });
            assert_eq!(outer, &[1]);
        });
    }
}
