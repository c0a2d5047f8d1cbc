//! `get_or_load_many` under concurrency: two overlapping batches and single `get_or_load`
//! calls on shared ids, all in the air at once, load each id once — in one process through
//! the shared per-key flights, on two nodes through the per-id leases.

use crate::batch::{name, names, user_key};
use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, Options};
use common::{Calls, local_only, sleep_ms, with_remote};

/// Per-id load counts of every loader that ran, batch or single.
#[derive(Clone, Default)]
struct LoadCounts(Arc<Mutex<HashMap<u32, usize>>>);

impl LoadCounts {
    fn count(&self, ids: &[u32]) {
        let mut counts = self.0.lock().unwrap();
        ids.iter()
            .for_each(|id| *counts.entry(*id).or_default() += 1);
    }
    fn snapshot(&self) -> HashMap<u32, usize> {
        self.0.lock().unwrap().clone()
    }
}

/// Two overlapping batches and three single loads, all in the air at once: each loader
/// holds until every caller has joined its keys' flights.
async fn overlapping_callers(caches: [Cache; 2]) -> LoadCounts {
    let (counts, started) = (LoadCounts::default(), Calls::default());
    const CALLERS: usize = 5;
    let batch = |cache: Cache, ids: Vec<u32>| {
        let (counts, started) = (counts.clone(), started.clone());
        tokio::spawn(async move {
            let load = |ids: Vec<u32>| {
                counts.count(&ids);
                let (started, found) = (started.clone(), ids.iter().map(|&id| (id, name(id))));
                let found: HashMap<u32, String> = found.collect();
                async move {
                    started.reach(CALLERS).await;
                    sleep_ms(50).await;
                    Ok::<_, String>(found)
                }
            };
            started.hit();
            let opts = Options::new();
            let got = cache
                .get_or_load_many(ids.clone(), user_key, &opts, load)
                .await;
            assert_eq!(got, Ok(names(&ids)));
        })
    };
    let single = |cache: Cache, id: u32| {
        let (counts, started) = (counts.clone(), started.clone());
        tokio::spawn(async move {
            let load = || async {
                counts.count(&[id]);
                started.reach(CALLERS).await;
                sleep_ms(50).await;
                Ok::<_, String>(name(id))
            };
            started.hit();
            let got = cache
                .get_or_load(&user_key(&id), &Options::new(), load)
                .await;
            assert_eq!(got, Ok(name(id)));
        })
    };
    let [a, b] = caches;
    let tasks = [
        batch(a.clone(), (0..20).collect()),
        batch(b.clone(), (10..30).rev().collect()),
        single(a.clone(), 5),
        single(b.clone(), 15),
        single(a, 25),
    ];
    for task in tasks {
        task.await.expect("no caller panicked");
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_batches_and_single_loads_load_each_id_once_in_the_process() {
    let cache = local_only();
    let counts = overlapping_callers([cache.clone(), cache]).await.snapshot();
    assert_eq!(counts.len(), 30);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "ids loaded more than once: {twice:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_batches_on_two_nodes_load_each_id_once_through_the_leases() {
    let remote = MemoryRemote::new();
    let nodes = [with_remote(&remote), with_remote(&remote.node())];
    let counts = overlapping_callers(nodes).await.snapshot();
    assert_eq!(counts.len(), 30);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "ids loaded more than once: {twice:?}");
}
