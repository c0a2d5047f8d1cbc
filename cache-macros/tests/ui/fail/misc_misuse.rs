use cache_core::cached;

#[cached(cache_none = true)]
fn answer(#[cache(skip, forever)] n: u8) -> u8 {
    n
}

#[cached]
fn nothing(n: u8) {
    let _ = n;
}

#[cached(tiers = "local, disk")]
async fn tiers(n: u8) -> u8 {
    n
}

fn main() {}
