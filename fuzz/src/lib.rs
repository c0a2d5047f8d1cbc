//! The fuzz targets' checks, in a library so that `integration/tests/it/fuzz_corpus.rs` replays
//! the committed corpus through exactly the same code (it includes `checks.rs` by path).
#![forbid(unsafe_code)]

pub mod checks;
