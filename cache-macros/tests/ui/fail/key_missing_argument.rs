use cache_core::cached;

struct Db;

#[cached(key = format!("user:{tenant}"))]
async fn user(#[cache(skip)] db: &Db, tenant: &str, user_id: u64) -> Option<String> {
    let _ = db;
    Some(format!("{tenant}/{user_id}"))
}

struct Repo {
    id: u64,
}

impl Repo {
    #[cached(key = id)]
    pub fn name(&self, id: u64) -> String {
        format!("{}-{id}", self.id)
    }
}

fn main() {}
