//! Hits through the adaptive-entry paths against the plain one, side by side: a local-tier
//! hit of `get_or_load` (the baseline), of `get_or_load_entry`, and of
//! `get_or_load_option` with `none_ttl` (negative caching, rebuilt on adaptive entries so a
//! hit no longer clones the `Options`), both for a found value and for a cached `None`.

use std::hint::black_box;
use std::time::Duration;

use cache_core::{Cache, CacheKey, Entry, Options};
use criterion::{Criterion, criterion_group, criterion_main};

fn hits(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache = Cache::builder().namespace("bench").build();
    let opts = Options::new()
        .ttl(Duration::from_secs(3600))
        .early_refresh(false);
    let negative = opts.clone().none_ttl(Duration::from_secs(3600));
    let (found, missing) = (CacheKey::new("user", &1), CacheKey::new("user", &404));
    runtime.block_on(async {
        let load = || async { Ok::<_, ()>(Some(7_u64)) };
        cache
            .get_or_load_option(&found, &negative, load)
            .await
            .unwrap();
        let load = || async { Ok::<Option<u64>, ()>(None) };
        cache
            .get_or_load_option(&missing, &negative, load)
            .await
            .unwrap();
    });
    let plain = CacheKey::new("plain", &1);
    runtime.block_on(async {
        let load = || async { Ok::<_, ()>(7_u64) };
        cache.get_or_load(&plain, &opts, load).await.unwrap();
    });

    let mut group = c.benchmark_group("adaptive_hit");
    group.bench_function("get_or_load", |b| {
        b.iter(|| {
            runtime.block_on(
                cache.get_or_load(black_box(&plain), &opts, || async { Ok::<_, ()>(0_u64) }),
            )
        })
    });
    group.bench_function("get_or_load_entry", |b| {
        b.iter(|| {
            runtime.block_on(cache.get_or_load_entry(black_box(&plain), &opts, || async {
                Ok::<_, ()>(Entry::new(0_u64))
            }))
        })
    });
    for (name, key) in [
        ("option_none_ttl_some", &found),
        ("option_none_ttl_none", &missing),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(
                    cache.get_or_load_option(black_box(key), &negative, || async {
                        Ok::<Option<u64>, ()>(Some(0))
                    }),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hits);
criterion_main!(benches);
