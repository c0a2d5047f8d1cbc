use cache_core::cached;

struct Filter {
    min: u32,
}

#[cached]
fn count(filter: Filter, limit: u32) -> u32 {
    filter.min + limit
}

fn main() {}
