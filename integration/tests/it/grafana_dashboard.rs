//! Every query of the Grafana dashboard returns data from a real Prometheus that scraped a
//! process exercising the cache. A dashboard whose queries were never run is not done.
//!
//! Needs the `prometheus` binary (Debian: `apt-get install -y prometheus`); `.ci/run` installs it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cache_core::metrics::prometheus::PrometheusMetrics;
use cache_core::tier::memory::MemoryRemote;
use cache_core::{Cache, CacheKey, Flags, LocalTier, Options, request_scope};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DASHBOARD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/web-server/grafana/dashboards/cache.json"
);

/// A Prometheus server killed (and its data removed) on drop.
struct Prometheus {
    child: Child,
    data: PathBuf,
    port: u16,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn start_prometheus(target_port: u16) -> Prometheus {
    let data =
        std::env::temp_dir().join(format!("cache-prom-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&data).unwrap();
    let config = data.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cache\n    static_configs:\n      - targets: [\"127.0.0.1:{target_port}\"]\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "could not start `prometheus` ({e}); install it with `apt-get install -y prometheus` (Debian/Ubuntu)"
            )
        });
    Prometheus { child, data, port }
}

/// A plain HTTP/1.0 GET (no chunked encoding), returning the body.
fn http_get(port: u16, path_and_query: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200")
        .then(|| body.to_string())
        .or_else(|| head.starts_with("HTTP/1.1 200").then(|| body.to_string()))
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs an instant query; returns the number of series, or the error Prometheus gave.
fn query(port: u16, expr: &str) -> Result<usize, String> {
    let body = http_get(port, &format!("/api/v1/query?query={}", url_encode(expr)))
        .ok_or_else(|| format!("no 200 answer for {expr}"))?;
    let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    if json["status"] != "success" {
        return Err(format!("{}: {}", json["errorType"], json["error"]));
    }
    Ok(json["data"]["result"].as_array().map_or(0, Vec::len))
}

/// Serves `metrics.render()` on a free port until the test ends.
async fn serve_metrics(metrics: PrometheusMetrics) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut buf = vec![0; 4096];
                let _ = socket.read(&mut buf).await;
                let body = metrics.render();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
            });
        }
    });
    port
}

/// One round of everything the dashboard shows: hits in every tier, misses, stale values,
/// coalesced loads, remote errors, shadow mismatches.
async fn exercise(cache: &Cache, remote: &MemoryRemote, round: u32) {
    let opts = Options::new().ttl(Duration::from_secs(60));
    let stale = Options::new()
        .ttl(Duration::from_millis(1))
        .stale(Duration::from_secs(60))
        .jitter(0.0);
    request_scope(async {
        for i in 0..20_u32 {
            let key = CacheKey::new("stores", &(i % 5));
            let _ = cache
                .get_or_load(&key, &opts, || async move { Ok::<_, ()>(vec![i; 64]) })
                .await;
            let _ = cache
                .get_or_load(&key, &opts, || async move { Ok::<_, ()>(vec![i; 64]) })
                .await;
        }
    })
    .await;
    // A key only in the remote tier (another node wrote it).
    cache.local().unwrap().run_pending_tasks();
    let fresh = CacheKey::new("stores", &(1_000 + round));
    let _ = cache
        .get_or_load(&fresh, &opts, || async { Ok::<_, ()>(vec![0_u32; 300]) })
        .await;
    cache.local().unwrap().run_pending_tasks();
    // Stale: written with a 1 ms TTL, read again shortly after.
    let key = CacheKey::new("likes", &1);
    let _ = cache
        .get_or_load(&key, &stale, || async { Ok::<_, ()>(round) })
        .await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let _ = cache
        .get_or_load(&key, &stale, || async { Ok::<_, ()>(round) })
        .await;
    // Coalesced: eight concurrent callers on a cold key.
    let cold = CacheKey::new("stores", &(10_000 + round));
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let (cache, cold, opts) = (cache.clone(), cold.clone(), opts.clone());
            tokio::spawn(async move {
                cache
                    .get_or_load(&cold, &opts, || async {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(1_u8)
                    })
                    .await
            })
        })
        .collect();
    for c in callers {
        let _ = c.await;
    }
    // Remote errors.
    remote.set_failing(true);
    let _ = cache
        .get_or_load(
            &CacheKey::new("stores", &(20_000 + round)),
            &opts,
            || async { Ok::<_, ()>(1_u8) },
        )
        .await;
    remote.set_failing(false);
    // Shadow: one value changes every round (the cached copy mismatches), one never does.
    let _ = cache
        .get_or_load(&CacheKey::new("users", &1), &opts, || async move {
            Ok::<_, ()>(round)
        })
        .await;
    let _ = cache
        .get_or_load(&CacheKey::new("users", &2), &opts, || async {
            Ok::<_, ()>(7_u32)
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_returns_series_from_a_real_prometheus() {
    let metrics = PrometheusMetrics::new().unwrap();
    let remote = MemoryRemote::new();
    let cache = Cache::builder()
        .namespace("dash")
        .local(LocalTier::new(8 << 20))
        .remote(remote.clone())
        .flags(Flags::parse("users=shadow, likes=on, stores=on").unwrap())
        .meter(metrics.meter())
        .build();
    let target = serve_metrics(metrics).await;
    let prometheus = start_prometheus(target);

    // Exercise the cache while Prometheus scrapes every second, until it holds enough samples
    // for rate() (bounded: gives up after 60 s).
    let started = Instant::now();
    let mut round = 0;
    loop {
        exercise(&cache, &remote, round).await;
        round += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let samples =
            query(prometheus.port, "count_over_time(cache_shadow_total[1m])").unwrap_or(0);
        let enough = samples > 0
            && query(
                prometheus.port,
                "min(count_over_time(cache_coalesced_total[1m])) >= 3",
            )
            .unwrap_or(0)
                > 0;
        if enough {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "Prometheus never scraped the cache"
        );
    }

    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(DASHBOARD).unwrap()).unwrap();
    assert_eq!(dashboard["uid"], "tiered-cache");
    let mut checked = 0;
    let mut failures = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$cache", ".*")
                .replace("$__rate_interval", "1m");
            checked += 1;
            match query(prometheus.port, &expr) {
                Ok(0) => failures.push(format!("{}: no series for {expr}", panel["title"])),
                Ok(_) => {}
                Err(e) => failures.push(format!("{}: {e} in {expr}", panel["title"])),
            }
        }
    }
    let variable = &dashboard["templating"]["list"][1]["definition"];
    assert_eq!(variable, "label_values(cache_requests_total, cache_name)");
    assert!(checked >= 15, "only {checked} queries in the dashboard");
    assert!(
        failures.is_empty(),
        "dashboard queries failed:\n{}",
        failures.join("\n")
    );
}
