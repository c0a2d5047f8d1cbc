//! OTLP push of the cache's metrics, configured the standard OpenTelemetry way.
//!
//! Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or the metrics-only
//! `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`) is set. Then every instrument `/metrics` shows is also
//! pushed to that collector every `OTEL_METRIC_EXPORT_INTERVAL` ms (default 60 000), over
//! OTLP/HTTP with protobuf bodies to `<endpoint>/v1/metrics`. The exporter and the SDK read the
//! other standard variables themselves: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
//! `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`. `OTEL_SDK_DISABLED=true` turns it off.
//!
//! Only `http/protobuf` is built in (the spec's default for OTLP/HTTP; gRPC would add tonic to
//! the example), and only `http://` endpoints: a collector is usually a sidecar or a node agent
//! reached over loopback or the pod network. Any other `OTEL_EXPORTER_OTLP_PROTOCOL` is a
//! startup error rather than silence.

use opentelemetry_otlp::MetricExporter;
use opentelemetry_sdk::metrics::PeriodicReader;

use crate::config::redact_url;

const ENDPOINTS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];
const PROTOCOLS: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
];

/// The periodic reader that pushes to the configured collector, or `None` when no endpoint is
/// set (or the SDK is disabled). An endpoint with an unsupported protocol is an error.
pub fn reader_from_env() -> Result<Option<PeriodicReader<MetricExporter>>, String> {
    reader_from(|name| std::env::var(name).ok())
}

/// [`reader_from_env`] over any source of variables, so the rules can be tested without
/// touching the process environment.
fn reader_from(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<PeriodicReader<MetricExporter>>, String> {
    let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    if set("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    let Some((endpoint_var, endpoint)) = ENDPOINTS
        .iter()
        .find_map(|name| set(name).map(|value| (*name, value)))
    else {
        return Ok(None);
    };
    if let Some((name, protocol)) = PROTOCOLS
        .iter()
        .find_map(|name| set(name).map(|value| (*name, value)))
        && protocol.trim() != "http/protobuf"
    {
        return Err(format!(
            "{name}={protocol}: this server exports OTLP over http/protobuf only; \
             unset it or set it to http/protobuf"
        ));
    }
    if !endpoint.trim().starts_with("http://") {
        return Err(format!(
            "{endpoint_var}={}: expected an http:// URL (TLS is not built into the example)",
            redact_url(&endpoint)
        ));
    }
    // The exporter reads the endpoint variables itself (and appends `/v1/metrics` to the
    // generic one, as the spec says); only the checks above are ours.
    let exporter = MetricExporter::builder()
        .with_http()
        .build()
        .map_err(|e| format!("OTLP exporter for {}: {e}", redact_url(&endpoint)))?;
    tracing::info!(
        endpoint = %redact_url(&endpoint),
        "exporting metrics over OTLP/HTTP"
    );
    Ok(Some(PeriodicReader::builder(exporter).build()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::reader_from;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn no_endpoint_means_no_push() {
        assert!(reader_from(vars(&[])).unwrap().is_none());
        assert!(
            reader_from(vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_disabled_sdk_wins_over_an_endpoint() {
        let env = vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_SDK_DISABLED", "TRUE"),
        ]);
        assert!(reader_from(env).unwrap().is_none());
    }

    #[test]
    fn grpc_is_refused_with_the_fix_named() {
        let env = vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        let error = reader_from(env).unwrap_err();
        assert!(
            error.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc"),
            "{error}"
        );
        assert!(error.contains("http/protobuf"), "{error}");
    }

    #[test]
    fn an_https_endpoint_is_refused_without_leaking_its_password() {
        let env = vars(&[(
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "https://user:hunter2@collector:4318",
        )]);
        let error = reader_from(env).unwrap_err();
        assert!(error.contains("http:// URL"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}
