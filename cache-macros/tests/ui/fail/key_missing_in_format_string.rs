use cache_core::cached;

// `{{user_id}}` is an escaped brace, and `concat!` does not format: neither reads `user_id`.
#[cached(key = format!("{tenant}:{{user_id}}:{}", concat!("{user_id}")))]
fn user(tenant: &str, user_id: u64) -> String {
    format!("{tenant}/{user_id}")
}

fn main() {}
