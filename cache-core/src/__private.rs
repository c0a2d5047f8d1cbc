//! Items used by code that `cache-macros` generates. Not a public API: names and signatures
//! change without notice. Generated code refers only to `::cache_core::__private::…`.

pub use crate::{Cache, CacheKey, Cacheable, KeyPart, Options, Tiers, global};
