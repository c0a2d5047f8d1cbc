use cache_core::cached;

#[cached(ttl = "1m", expire = "5m", tier = "local")]
fn answer(n: u8) -> u8 {
    n
}

fn main() {}
