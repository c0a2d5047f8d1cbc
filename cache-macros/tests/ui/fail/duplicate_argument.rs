use cache_core::cached;

#[cached(ttl = "1m", name = "answers", ttl = "2m")]
fn answer(n: u8) -> u8 {
    n
}

fn main() {}
