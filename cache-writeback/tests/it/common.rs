//! Helpers the write-back tests share with cache-redis's tests.

pub use cache_redis::test_support::fixtures::{
    cluster_tier, eventually, keys_with_ttl, node, raw, tier,
};
