//! A Prometheus registry wired to OpenTelemetry, for a `/metrics` route (feature `prometheus`).

use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{MeterProviderBuilder, PeriodicReader, SdkMeterProvider};
use prometheus::{Encoder, TextEncoder};

/// Owns a Prometheus registry fed by an OpenTelemetry meter provider.
///
/// ```
/// use cache_core::{Cache, CacheKey, Options};
/// use cache_core::metrics::prometheus::PrometheusMetrics;
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let metrics = PrometheusMetrics::new().unwrap();
/// let cache = Cache::builder().meter(metrics.meter()).build();
/// let _: Result<u8, ()> = cache.get_or_load(&CacheKey::new("demo", &1), &Options::new(), || async { Ok(1) }).await;
/// let text = metrics.render();
/// assert!(text.contains("cache_requests_total"));
/// assert!(text.contains("cache_load_duration_seconds_bucket"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PrometheusMetrics {
    registry: prometheus::Registry,
    provider: SdkMeterProvider,
}

impl PrometheusMetrics {
    /// A fresh registry and provider.
    pub fn new() -> Result<PrometheusMetrics, crate::Error> {
        let (registry, provider) = PrometheusMetrics::pull()?;
        Ok(PrometheusMetrics {
            registry,
            provider: provider.build(),
        })
    }

    /// A fresh registry and provider whose instruments also feed `reader`: e.g. an OTLP
    /// exporter's `PeriodicReader`, so one meter serves both the `/metrics` pull route and a
    /// push to a collector. The provider's resource honours the standard `OTEL_SERVICE_NAME`
    /// and `OTEL_RESOURCE_ATTRIBUTES` variables.
    ///
    /// The example server builds its OTLP reader this way (`examples/web-server/src/otlp.rs`).
    pub fn with_reader<E: PushMetricExporter>(
        reader: PeriodicReader<E>,
    ) -> Result<PrometheusMetrics, crate::Error> {
        let (registry, provider) = PrometheusMetrics::pull()?;
        Ok(PrometheusMetrics {
            registry,
            provider: provider.with_reader(reader).build(),
        })
    }

    /// A registry, and a provider builder whose instruments it gathers.
    fn pull() -> Result<(prometheus::Registry, MeterProviderBuilder), crate::Error> {
        let registry = prometheus::Registry::new();
        let exporter = opentelemetry_prometheus::exporter()
            .with_registry(registry.clone())
            .build()
            .map_err(crate::Error::metrics)?;
        Ok((registry, SdkMeterProvider::builder().with_reader(exporter)))
    }

    /// Exports what push readers (see [`with_reader`](PrometheusMetrics::with_reader)) have
    /// not sent yet and stops them; call it once at shutdown so the last interval is not lost.
    /// `/metrics` keeps answering with the values gathered so far.
    pub fn shutdown(&self) -> Result<(), crate::Error> {
        self.provider.shutdown().map_err(crate::Error::metrics)
    }

    /// The meter to hand to [`CacheBuilder::meter`](crate::CacheBuilder::meter).
    pub fn meter(&self) -> Meter {
        self.provider.meter("cache-core")
    }

    /// The underlying registry, to register other collectors next to the cache's.
    pub fn registry(&self) -> &prometheus::Registry {
        &self.registry
    }

    /// Everything in the registry in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec only fails on invalid metric families, which the exporter never
        // produces; an empty page is the honest answer if it ever did.
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
