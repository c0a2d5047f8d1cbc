use cache_core::{Entry, cached};

fn keep(n: u8) -> Entry<u8> {
    Entry::new(n)
}

// The decider must take the cached value: here that is `String`, not `u8`.
#[cached(adapt = keep)]
async fn name(id: u8) -> Result<String, String> {
    Ok(id.to_string())
}

#[cached(adapt = "keep")]
async fn count(n: u8) -> u8 {
    n
}

fn main() {}
