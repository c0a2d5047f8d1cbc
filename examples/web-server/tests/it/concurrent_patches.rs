//! Every committed PATCH moves the keys of its store and of its chain's list, whatever the
//! interleaving: many concurrent PATCHes on the stores of one chain, with reads of both routes
//! running alongside (filling the cache at whatever version they see), and afterwards both routes
//! show exactly what the database holds.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use reqwest::StatusCode;
use serde_json::Value;
use web_server::db::{Db, SeedSize};

use crate::common::{Server, start, user_token};

const CHAIN: i64 = 1;
const WRITERS: usize = 8;
const PATCHES_PER_WRITER: usize = 25;
/// Fewer stores than writers × patches, so several writers race on the same rows too.
const STORES_PATCHED: usize = 12;
const READERS: usize = 4;

/// One PATCH renaming a store; the only place the test writes, so a change to how PATCH is
/// called (e.g. authentication) is made here.
async fn rename(server: &Server, store: i64, name: &str) -> StatusCode {
    server
        .client
        .patch(format!("{}/stores/{store}", server.base))
        .bearer_auth(user_token(1))
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .unwrap()
        .status()
}

#[derive(Default)]
struct Reads {
    lists: AtomicU64,
    not_modified: AtomicU64,
    stores: AtomicU64,
}

/// Reads the chain list (revalidating with the last ETag it saw) and one store, until told to
/// stop.
async fn read_until(
    server: Arc<Server>,
    stores: Vec<i64>,
    stop: Arc<AtomicBool>,
    reads: Arc<Reads>,
) {
    let mut etag = String::new();
    let mut turn = 0;
    while !stop.load(Ordering::Relaxed) {
        let list = server
            .client
            .get(format!("{}/chains/{CHAIN}/stores", server.base))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        match list.status() {
            StatusCode::OK => {
                etag = list.headers()["etag"].to_str().unwrap().to_string();
                let _ = list.bytes().await.unwrap();
                reads.lists.fetch_add(1, Ordering::Relaxed);
            }
            StatusCode::NOT_MODIFIED => {
                reads.not_modified.fetch_add(1, Ordering::Relaxed);
            }
            other => panic!("chain list answered {other}"),
        }
        let store = server
            .get(&format!("/stores/{}", stores[turn % stores.len()]))
            .await;
        assert_eq!(store.status(), StatusCode::OK);
        let _ = store.bytes().await.unwrap();
        reads.stores.fetch_add(1, Ordering::Relaxed);
        turn += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_in_one_chain_all_show_in_its_list_and_its_stores() {
    let server = Arc::new(start(None).await);
    let list: Value = server
        .get(&format!("/chains/{CHAIN}/stores"))
        .await
        .json()
        .await
        .unwrap();
    let stores: Vec<i64> = list["stores"]
        .as_array()
        .unwrap()
        .iter()
        .take(STORES_PATCHED)
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(stores.len(), STORES_PATCHED);

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(Reads::default());
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            tokio::spawn(read_until(
                server.clone(),
                stores.clone(),
                stop.clone(),
                reads.clone(),
            ))
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (server, stores) = (server.clone(), stores.clone());
            tokio::spawn(async move {
                for patch in 0..PATCHES_PER_WRITER {
                    let store = stores[(writer * 5 + patch) % stores.len()];
                    let status = rename(&server, store, &format!("w{writer}-p{patch}")).await;
                    assert_eq!(status, StatusCode::OK);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.await.unwrap();
    }

    // The truth, through a pool of its own on the same database file.
    let db = Db::open(
        &format!("sqlite://{}?mode=rwc", server.db_file.display()),
        SeedSize {
            chains: 4,
            largest_chain: 60,
            posts: 5,
        },
    )
    .await
    .unwrap();
    let mut committed = HashMap::new();
    for &id in &stores {
        committed.insert(id, db.store(id).await.unwrap().unwrap().name);
    }

    let list = server.get(&format!("/chains/{CHAIN}/stores")).await;
    let etag = list.headers()["etag"].to_str().unwrap().to_string();
    let list: Value = list.json().await.unwrap();
    let listed: HashMap<i64, String> = list["stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().unwrap(),
                s["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let stale_in_list = stores
        .iter()
        .filter(|id| listed[id] != committed[id])
        .count();
    let mut stale_stores = 0;
    for &id in &stores {
        let shown: Value = server
            .get(&format!("/stores/{id}"))
            .await
            .json()
            .await
            .unwrap();
        if shown["store"]["name"] != committed[&id].as_str() {
            stale_stores += 1;
        }
    }
    println!(
        "concurrent PATCH test: {} updates ({WRITERS} tasks x {PATCHES_PER_WRITER} on \
         {STORES_PATCHED} stores of chain {CHAIN}), reads during the writes: {} chain lists \
         (200) + {} revalidated (304) + {} stores; afterwards stale list entries = \
         {stale_in_list}, stale stores = {stale_stores}",
        WRITERS * PATCHES_PER_WRITER,
        reads.lists.load(Ordering::Relaxed),
        reads.not_modified.load(Ordering::Relaxed),
        reads.stores.load(Ordering::Relaxed),
    );
    assert!(committed.values().all(|name| name.starts_with('w')));
    assert_eq!(
        stale_in_list, 0,
        "the chain list shows every committed patch"
    );
    assert_eq!(stale_stores, 0, "every store shows its committed patch");

    // The final list still revalidates to 304.
    let revalidated = server
        .client
        .get(format!("{}/chains/{CHAIN}/stores", server.base))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
}
