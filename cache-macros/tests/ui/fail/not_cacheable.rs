use cache_core::cached;

struct Report {
    total: u64,
}

#[cached]
fn report(id: u64) -> Report {
    Report { total: id }
}

fn main() {
    let _ = report(1).total;
}
