//! Arbitrary names and parts through `CacheKey::{with_schema, versioned, collection}`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cache_fuzz::checks::keys(data));
