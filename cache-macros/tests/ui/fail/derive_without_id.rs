use cache_core::CacheKey;

#[derive(CacheKey)]
#[cache_key(prefix = "store", version = updated_at)]
struct Store {
    id: i64,
    updated_at: std::time::SystemTime,
}

#[derive(CacheKey)]
#[cache_key(prefix = "chain", id = chain_id, colour = "red")]
struct Chain {
    id: i64,
}

#[derive(CacheKey)]
#[cache_key(prefix = "chain", id = chain_id)]
struct Brand {
    id: i64,
}

fn main() {}
