//! Overhead of flags and metrics on an L1 hit (`Cache::get_or_load` answered by the local tier,
//! small value): no meter vs an OpenTelemetry meter feeding a Prometheus registry
//! (`cache_core::metrics::prometheus::PrometheusMetrics`), and an empty flag table vs one with
//! entries (this cache's name among them, so the lookup hashes the name).

use std::hint::black_box;
use std::time::Duration;

use benches::{Small, figure, small};
use cache_core::metrics::prometheus::PrometheusMetrics;
use cache_core::{Cache, CacheKey, Flags, Options};
use criterion::{Criterion, criterion_group, criterion_main};

const FLAG_SPEC: &str =
    "chains=on, likes=25%, users=shadow, recommendations=off, stores=on, overhead=on, *=on";

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let metrics = PrometheusMetrics::new().expect("prometheus");
    let flags = || Flags::parse(FLAG_SPEC).expect("flags");
    let caches = [
        ("no_meter_flags_empty", Cache::builder().build()),
        (
            "meter_flags_empty",
            Cache::builder().meter(metrics.meter()).build(),
        ),
        (
            "no_meter_flags_with_entries",
            Cache::builder().flags(flags()).build(),
        ),
        (
            "meter_flags_with_entries",
            Cache::builder()
                .meter(metrics.meter())
                .flags(flags())
                .build(),
        ),
    ];
    let opts = Options::new()
        .ttl(Duration::from_secs(3600))
        .early_refresh(false);
    let key = CacheKey::new("overhead", &42_i64);

    let mut group = c.benchmark_group("overhead");
    for (name, cache) in &caches {
        rt.block_on(cache.set(&key, &small(), &opts));
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async {
                let got: Result<Small, ()> = cache
                    .get_or_load(black_box(&key), &opts, || async { Ok(small()) })
                    .await;
                got
            })
        });
    }
    group.finish();

    let text = metrics.render();
    let hits = text
        .lines()
        .filter(|l| l.starts_with("cache_requests_total") && l.contains("cache_result=\"hit\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>();
    figure("overhead", "prometheus_hits_counted", hits);
    figure("overhead", "prometheus_text_bytes", text.len());
}

criterion_group!(benches, overhead);
criterion_main!(benches);
