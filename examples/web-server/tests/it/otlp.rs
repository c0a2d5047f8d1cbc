//! The real binary pushes its cache metrics over OTLP/HTTP when the standard `OTEL_*` variables
//! say where, and a collector (here a small receiver on a free loopback port) gets them.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point;
use prost::Message;
use tokio::sync::mpsc;

use crate::lifecycle::db_file;
use crate::shutdown::{spawn_binary, wait_with_timeout};

/// One OTLP/HTTP request as the receiver got it.
struct Export {
    content_type: String,
    body: Bytes,
}

/// Accepts `POST /v1/metrics` on a free loopback port; every body goes to the returned channel.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Export>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(
            "/v1/metrics",
            post(
                |State(tx): State<mpsc::UnboundedSender<Export>>,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let content_type = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let _ = tx.send(Export { content_type, body });
                    StatusCode::OK
                },
            ),
        )
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), rx)
}

/// The summed `cache.requests` points in `request`, and its resources' string attributes.
fn cache_requests(request: &ExportMetricsServiceRequest) -> (i64, Vec<(String, String)>) {
    let mut total = 0;
    let mut resource_attrs = Vec::new();
    for resource in &request.resource_metrics {
        for attr in resource.resource.iter().flat_map(|r| &r.attributes) {
            if let Some(Value::StringValue(value)) =
                attr.value.as_ref().and_then(|v| v.value.as_ref())
            {
                resource_attrs.push((attr.key.clone(), value.clone()));
            }
        }
        let metrics = resource.scope_metrics.iter().flat_map(|s| &s.metrics);
        for metric in metrics.filter(|m| m.name == "cache.requests") {
            if let Some(Data::Sum(sum)) = &metric.data {
                for point in &sum.data_points {
                    if let Some(number_data_point::Value::AsInt(n)) = point.value {
                        total += n;
                    }
                }
            }
        }
    }
    (total, resource_attrs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_pushes_cache_requests_to_the_otlp_endpoint_in_the_environment() {
    let (endpoint, mut exports) = receiver().await;
    let file = db_file("otlp");
    let db_url = format!("sqlite://{}?mode=rwc", file.display());
    let (mut child, addr) = spawn_binary(
        &db_url,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_METRIC_EXPORT_INTERVAL", "200"),
            ("OTEL_SERVICE_NAME", "otlp-test-web"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test"),
        ],
    )
    .await;

    // Cached reads: a miss, then hits.
    let client = reqwest::Client::new();
    for _ in 0..3 {
        let response = client
            .get(format!("http://{addr}/chains/1/stores"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    let deadline = Instant::now() + Duration::from_secs(20);
    let (requests, resource, content_type) = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let export = tokio::time::timeout(left, exports.recv())
            .await
            .expect("no OTLP export with cache.requests within 20 s")
            .expect("receiver stopped");
        let decoded = ExportMetricsServiceRequest::decode(export.body)
            .expect("the body is an OTLP protobuf ExportMetricsServiceRequest");
        let (requests, resource) = cache_requests(&decoded);
        if requests > 0 {
            break (requests, resource, export.content_type);
        }
    };
    assert_eq!(content_type, "application/x-protobuf");
    assert!(
        requests >= 3,
        "3 cached reads, {requests} cache.requests points"
    );
    let has = |key: &str, value: &str| resource.contains(&(key.to_string(), value.to_string()));
    assert!(has("service.name", "otlp-test-web"), "{resource:?}");
    assert!(has("deployment.environment", "test"), "{resource:?}");

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(exit.code(), Some(0), "exits cleanly with the OTLP reader");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}
