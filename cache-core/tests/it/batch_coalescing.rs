//! `get_or_load_many` under concurrency: two overlapping batches and single `get_or_load`
//! calls on shared ids, all in the air at once, load each id once — in one process through
//! the shared per-key flights, on two nodes through the per-id leases; batches racing
//! invalidations leave no old version behind.

use crate::batch::{name, names, user_key};
use crate::common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// Node B loads id 2 (holding its lease) and cannot finish until node A's batch has called
/// its loader for id 1; A's batch wants ids 1 and 2. A batch that waited for id 2 before
/// loading its own id 1 would wait for B while B waits for it, until the lease expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_loads_its_own_ids_while_it_waits_for_ids_another_node_is_loading() {
    let remote = MemoryRemote::new();
    let (a, b) = (with_remote(&remote), with_remote(&remote.node()));
    let opts = Options::new().lease_ttl(std::time::Duration::from_secs(30));
    let a_loaded = Arc::new(tokio::sync::Notify::new());
    let b_waited_too_long = Arc::new(AtomicBool::new(false));
    let b_started = Arc::new(tokio::sync::Notify::new());
    let node_b = {
        let (a_loaded, too_long) = (a_loaded.clone(), b_waited_too_long.clone());
        let (b_started, opts) = (b_started.clone(), opts.clone());
        tokio::spawn(async move {
            let load = || async {
                b_started.notify_one();
                let waited =
                    tokio::time::timeout(std::time::Duration::from_secs(10), a_loaded.notified());
                too_long.store(waited.await.is_err(), Ordering::SeqCst);
                Ok::<_, String>(name(2))
            };
            b.get_or_load(&user_key(&2), &opts, load).await
        })
    };
    b_started.notified().await;
    let asked = Mutex::new(Vec::new());
    let load = |ids: Vec<u32>| {
        asked.lock().unwrap().push(ids.clone());
        a_loaded.notify_one();
        async move { Ok::<_, String>(ids.iter().map(|&id| (id, name(id))).collect()) }
    };
    let got = a.get_or_load_many(vec![1, 2], user_key, &opts, load).await;
    assert_eq!(got, Ok(names(&[1, 2])));
    assert_eq!(node_b.await.unwrap(), Ok(name(2)));
    assert_eq!(
        *asked.lock().unwrap(),
        vec![vec![1]],
        "id 2 came from node B's load"
    );
    assert!(
        !b_waited_too_long.load(Ordering::SeqCst),
        "node A's batch did not load id 1 until node B's lease on id 2 was settled"
    );
}

/// Writers bump ids' versions in the model and invalidate them while batches load random
/// subsets. Once everything is quiet, no tier may hold a version older than the model's: a
/// batch load that began before an invalidation never stored its result after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_racing_invalidations_never_leave_an_old_version_in_any_tier() {
    const IDS: u32 = 16;
    let remote = MemoryRemote::new();
    let cache = with_remote(&remote);
    let model: Arc<Vec<AtomicU64>> = Arc::new((0..IDS).map(|_| AtomicU64::new(0)).collect());
    let writer = |seed: u64| {
        let (cache, model) = (cache.clone(), Arc::clone(&model));
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed);
            for _ in 0..100 {
                let id = rng.u32(0..IDS);
                model[id as usize].fetch_add(1, Ordering::SeqCst);
                cache.invalidate(&version_key(&id)).await;
                sleep_ms(1).await;
            }
        })
    };
    let writers_done = Arc::new(AtomicBool::new(false));
    let reader = |seed: u64| {
        let (cache, model) = (cache.clone(), Arc::clone(&model));
        let writers_done = Arc::clone(&writers_done);
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed);
            while !writers_done.load(Ordering::SeqCst) {
                let ids: Vec<u32> = (0..IDS).filter(|_| rng.bool()).collect();
                let load = |ids: Vec<u32>| {
                    let model = Arc::clone(&model);
                    async move {
                        let read = ids
                            .iter()
                            .map(|&id| (id, model[id as usize].load(Ordering::SeqCst)));
                        let read: HashMap<u32, u64> = read.collect();
                        // Widens the window in which an invalidation overtakes this load.
                        sleep_ms(2).await;
                        Ok::<_, String>(read)
                    }
                };
                let opts = Options::new();
                let got = cache.get_or_load_many(ids, version_key, &opts, load).await;
                assert!(got.is_ok());
            }
        })
    };
    let readers = [reader(3), reader(4), reader(5)];
    for task in [writer(1), writer(2)] {
        task.await.expect("no writer panicked");
    }
    writers_done.store(true, Ordering::SeqCst);
    for task in readers {
        task.await.expect("no reader panicked");
    }
    let other_node = with_remote(&remote.node());
    for id in 0..IDS {
        let current = model[id as usize].load(Ordering::SeqCst);
        for (node, cache) in [("this node", &cache), ("another node", &other_node)] {
            let cached = cache.get::<u64>(&version_key(&id)).await;
            assert!(
                cached.is_none_or(|v| v == current),
                "{node} holds version {cached:?} of id {id}, the model is at {current}"
            );
        }
    }
}

fn version_key(id: &u32) -> cache_core::CacheKey {
    cache_core::CacheKey::new("version", id)
}
