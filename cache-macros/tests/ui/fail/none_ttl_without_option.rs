use cache_core::cached;

#[cached(none_ttl = "30s")]
async fn count(n: u8) -> Result<u8, String> {
    Ok(n)
}

#[cached(none_ttl = "30s", cache_none = true)]
async fn both(n: u8) -> Option<u8> {
    Some(n)
}

fn main() {}
