use cache_core::cached;

#[derive(Debug)]
struct DbError;

#[cached]
async fn load(id: u32) -> Result<String, DbError> {
    Err(DbError).map(|()| id.to_string())
}

fn main() {}
