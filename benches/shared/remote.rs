//! What every Redis bench compares: a cache with only the Redis tier, and a raw multiplexed
//! redis-rs connection to the same server. Included by the benches with `#[path]`.

use cache_core::Cache;
use cache_redis::RedisTier;
use cache_redis::test_support::RedisServer;
use redis::aio::MultiplexedConnection;

/// A cache on `server` without a local tier, and a raw connection to `server`.
pub async fn connect(server: &RedisServer) -> (Cache, MultiplexedConnection) {
    let tier = RedisTier::connect(&server.url()).await.expect("connect");
    let cache = Cache::builder().without_local().remote(tier).build();
    let conn = redis::Client::open(server.url())
        .expect("client")
        .get_multiplexed_async_connection()
        .await
        .expect("raw connection");
    (cache, conn)
}
