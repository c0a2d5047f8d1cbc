//! L1 hit: `Cache::get_or_load` served by the local tier vs a raw moka sync cache lookup.
//! (The full comparison against the `cached` crate arrives with the benches issue.)

use std::sync::Arc;
use std::time::Duration;

use cache_core::{Cache, CacheKey, Options, cached};
use criterion::{Criterion, criterion_group, criterion_main};

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Small {
    name: String,
    city: String,
}

fn small() -> Small {
    Small {
        name: "Store 42".into(),
        city: "Seoul".into(),
    }
}

/// The same lookup through `#[cached]` (global cache, key built per call from the argument).
#[cached(name = "bench_async", ttl = "1h", early_refresh = false)]
async fn cached_small_async(id: i64) -> Small {
    let _ = id;
    small()
}

/// The sync flavour: `Cache::get_or_load_sync` over the request and local tiers.
#[cached(name = "bench_sync", ttl = "1h", early_refresh = false)]
fn cached_small_sync(id: i64) -> Small {
    let _ = id;
    small()
}

fn l1_hit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cache = Cache::builder().build();
    let opts = Options::new()
        .ttl(Duration::from_secs(3600))
        .early_refresh(false);
    let key = CacheKey::new("bench", &42_i64);
    rt.block_on(cache.set(&key, &small(), &opts));

    let mut group = c.benchmark_group("l1_hit_small");
    group.bench_function("cache_core_get_or_load", |b| {
        b.to_async(&rt).iter(|| async {
            let v: Result<Small, ()> = cache
                .get_or_load(&key, &opts, || async { Ok(small()) })
                .await;
            v
        })
    });
    let moka = moka::sync::Cache::<i64, Arc<Small>>::new(10_000);
    moka.insert(42, Arc::new(small()));
    group.bench_function("raw_moka_sync_get_clone", |b| {
        b.iter(|| moka.get(&42).map(|v| Small::clone(&v)))
    });
    rt.block_on(cached_small_async(42));
    group.bench_function("cached_macro_async_fn", |b| {
        b.to_async(&rt).iter(|| cached_small_async(42))
    });
    cached_small_sync(42);
    group.bench_function("cached_macro_sync_fn", |b| b.iter(|| cached_small_sync(42)));
    group.finish();
}

criterion_group!(benches, l1_hit);
criterion_main!(benches);
