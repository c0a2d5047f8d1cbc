//! `#[cached(batch)]`: a function of many ids is cached per id — the body runs with only the
//! ids no tier had, the answer holds every id found, each id's key is the key a plain
//! `#[cached]` function of that id has, and the companions take one id.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use cache_core::{Cache, CacheKey, cached};

static BATCH: LazyLock<Cache> = LazyLock::new(|| Cache::builder().namespace("batch").build());

/// A database table and the id lists it was asked for.
struct Db {
    rows: HashMap<u32, String>,
    asked: Mutex<Vec<Vec<u32>>>,
}

impl Db {
    fn new() -> Db {
        let rows = (1..=5).map(|id| (id, format!("user {id}"))).collect();
        Db {
            rows,
            asked: Mutex::default(),
        }
    }
    fn asked(&self) -> Vec<Vec<u32>> {
        self.asked.lock().unwrap().clone()
    }
}

#[cached(batch, cache = BATCH, ttl = "10m")]
async fn users(#[cache(skip)] db: &Db, ids: Vec<u32>) -> Result<HashMap<u32, String>, String> {
    db.asked.lock().unwrap().push(ids.clone());
    if ids.contains(&0) {
        return Err("id 0 is invalid".into());
    }
    Ok(ids
        .iter()
        .filter_map(|id| Some((*id, db.rows.get(id)?.clone())))
        .collect())
}

#[tokio::test]
async fn the_body_runs_with_only_the_missing_ids_and_the_answer_holds_every_id_found() {
    let db = Db::new();
    let first = users(&db, vec![1, 2]).await.unwrap();
    assert_eq!(first.len(), 2);
    let second = users(&db, vec![2, 3, 9, 1]).await.unwrap();
    let expected: HashMap<u32, String> = [1, 2, 3]
        .map(|id| (id, format!("user {id}")))
        .into_iter()
        .collect();
    assert_eq!(second, expected, "9 is not in the table");
    assert_eq!(db.asked(), vec![vec![1, 2], vec![3, 9]]);
}

#[tokio::test]
async fn an_error_is_returned_and_its_ids_are_not_cached() {
    let db = Db::new();
    assert_eq!(
        users(&db, vec![4, 0]).await,
        Err("id 0 is invalid".to_string())
    );
    assert_eq!(users(&db, vec![4]).await.unwrap().len(), 1);
    assert_eq!(db.asked(), vec![vec![4, 0], vec![4]]);
}

#[cached(batch, cache = BATCH, name = "names", version = 2)]
async fn names(#[cache(skip)] db: &Db, ids: &[u32]) -> HashMap<u32, String> {
    db.asked.lock().unwrap().push(ids.to_vec());
    ids.iter().map(|id| (*id, format!("name {id}"))).collect()
}

#[cached(cache = BATCH, name = "names", version = 2)]
async fn one_name(id: u32) -> String {
    format!("single {id}")
}

#[tokio::test]
async fn each_ids_key_is_the_key_of_a_plain_cached_fn_of_that_id() {
    let db = Db::new();
    assert_eq!(names_cache_key(&7), one_name_cache_key(&7));
    assert_eq!(
        names_cache_key(&7),
        CacheKey::with_schema("names", 2, &(7_u32,))
    );
    assert_eq!(one_name(7).await, "single 7");
    let got = names(&db, &[7, 8]).await;
    assert_eq!(got[&7], "single 7", "7 was cached by the plain function");
    assert_eq!(db.asked(), vec![vec![8]]);

    names_invalidate(&7).await;
    assert_eq!(names(&db, &[7]).await[&7], "name 7");
    assert_eq!(db.asked(), vec![vec![8], vec![7]]);
}

static ABSENT: LazyLock<Cache> = LazyLock::new(|| Cache::builder().namespace("absent").build());

#[cached(batch, cache = ABSENT, none_ttl = Duration::from_secs(60))]
async fn known(#[cache(skip)] db: &Db, ids: Vec<u32>) -> Result<HashMap<u32, String>, String> {
    db.asked.lock().unwrap().push(ids.clone());
    Ok(ids
        .iter()
        .filter_map(|id| Some((*id, db.rows.get(id)?.clone())))
        .collect())
}

#[tokio::test]
async fn with_none_ttl_ids_not_found_are_cached_as_absent() {
    let db = Db::new();
    assert_eq!(known(&db, vec![1, 99]).await.unwrap().len(), 1);
    assert_eq!(known(&db, vec![1, 99]).await.unwrap().len(), 1);
    assert_eq!(
        db.asked(),
        vec![vec![1, 99]],
        "99 came from the cache as absent"
    );
}
