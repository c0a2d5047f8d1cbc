use cache_core::cached;

struct Db;

impl Db {
    fn tenant(&self) -> u32 {
        1
    }
}

#[cached(key = (db.tenant(), id))]
fn user(#[cache(skip)] db: &Db, id: u32) -> u32 {
    db.tenant() + id
}

fn main() {}
