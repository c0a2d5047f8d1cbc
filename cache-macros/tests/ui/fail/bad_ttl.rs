use cache_core::cached;

#[cached(ttl = "10 minutos")]
fn answer(n: u8) -> u8 {
    n
}

#[cached(stale = 10)]
fn other(n: u8) -> u8 {
    n
}

fn main() {}
