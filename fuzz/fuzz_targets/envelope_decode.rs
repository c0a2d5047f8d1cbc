//! Untrusted bytes through `Codec::decode` (several types) and `Codec::decode_meta`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cache_fuzz::checks::envelope(data));
