use cache_core::cached;

#[cached(tiers = "local, redis")]
fn answer(n: u8) -> u8 {
    n
}

fn main() {}
