//! What one poll of the dashboard costs: `GET stats`'s document read from a cache with 20 cache
//! names (`cache_admin::StatsReport::read`, then serialized to JSON), next to the whole-cache
//! `Cache::stats()` and a Prometheus `/metrics` render of the same counters.

use std::hint::black_box;
use std::time::Duration;

use benches::figure;
use cache_admin::StatsReport;
use cache_core::metrics::prometheus::PrometheusMetrics;
use cache_core::{Cache, CacheKey, LocalTier, Options};
use criterion::{Criterion, criterion_group, criterion_main};

const NAMES: u32 = 20;

fn admin_stats(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let metrics = PrometheusMetrics::new().expect("prometheus");
    let cache = Cache::builder()
        .local(LocalTier::new(64 << 20))
        .meter(metrics.meter())
        .build();
    let opts = Options::new().ttl(Duration::from_secs(3600));
    rt.block_on(async {
        for name in 0..NAMES {
            for id in 0..50_u32 {
                for _ in 0..3 {
                    let key = CacheKey::new(&format!("cache{name}"), &id);
                    let _: Result<u32, ()> =
                        cache.get_or_load(&key, &opts, || async { Ok(id) }).await;
                }
            }
        }
    });

    let mut group = c.benchmark_group("admin_stats");
    group.bench_function("cache_stats", |b| b.iter(|| black_box(cache.stats())));
    group.bench_function("name_reports", |b| {
        b.iter(|| black_box(cache.name_reports()))
    });
    group.bench_function("stats_report_json", |b| {
        b.iter(|| serde_json::to_vec(&StatsReport::read(black_box(&cache))).expect("json"))
    });
    group.bench_function("prometheus_render", |b| {
        b.iter(|| black_box(metrics.render()))
    });
    group.finish();

    let body = serde_json::to_vec(&StatsReport::read(&cache)).expect("json");
    figure("admin_stats", "stats_json_bytes", body.len());
}

criterion_group!(benches, admin_stats);
criterion_main!(benches);
