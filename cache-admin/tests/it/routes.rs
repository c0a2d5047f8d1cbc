//! What each data route answers, and what bad input gets.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use cache_admin::{HealthReport, HealthSource};
use cache_core::{Cache, CacheKey, FlagMode, LocalTier, Options};
use serde_json::Value;

use crate::common::{admin, call, encode_component, metered_cache, mount};

fn opts() -> Options {
    Options::new()
        .ttl(Duration::from_secs(60))
        .stale(Duration::from_secs(30))
        .jitter(0.0)
        .early_refresh(false)
}

async fn load(cache: &Cache, name: &str, id: u32) {
    let _: Result<u32, ()> = cache
        .get_or_load(&CacheKey::new(name, &id), &opts(), || async move { Ok(id) })
        .await;
}

/// The Prometheus value of `cache_requests_total` for one (name, tier, result).
fn exported(text: &str, name: &str, tier: &str, result: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with("cache_requests_total{"))
        .filter(|l| {
            l.contains(&format!("cache_name=\"{name}\""))
                && l.contains(&format!("cache_tier=\"{tier}\""))
                && l.contains(&format!("cache_result=\"{result}\""))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

#[tokio::test]
async fn stats_count_per_name_and_tier_exactly_what_metrics_exports() {
    let (cache, metrics) = metered_cache();
    for id in [1, 2, 1, 1, 2] {
        load(&cache, "users", id).await;
    }
    load(&cache, "orders", 9).await;
    let app = mount(admin(cache.clone()));
    let (status, stats) = call(&app, Method::GET, "/stats", None).await;
    assert_eq!(status, StatusCode::OK);

    let names: Vec<&str> = stats["caches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders", "users"]);
    let users = &stats["caches"][1];
    assert_eq!(users["loads"], 2);
    assert_eq!(users["tiers"]["local"]["miss"], 2);
    assert_eq!(users["tiers"]["local"]["hit"], 3);
    assert_eq!(users["tiers"]["local"]["hit_ratio"], 0.6);
    assert_eq!(users["mode"], "on");
    assert_eq!(users["load_latency"]["count"], 2);
    assert!(users["load_latency"]["p50_ms"].as_f64().unwrap() > 0.0);
    assert!(users["load_latency"]["p99_ms"].as_f64() >= users["load_latency"]["p50_ms"].as_f64());
    assert_eq!(stats["totals"]["loads"], 3);
    assert_eq!(stats["totals"]["load_latency"]["count"], 3);
    assert_eq!(
        stats["local"]["entries"].as_u64(),
        Some(cache.local().unwrap().entry_count())
    );
    assert!(stats["local"]["bytes"].as_u64().unwrap() > 0);

    // The same counters feed /metrics: the two agree number for number, and the latency
    // buckets count the same loads as the exported histogram.
    let text = metrics.render();
    let exported_loads = text
        .lines()
        .find(|l| {
            l.starts_with("cache_load_duration_seconds_count{")
                && l.contains("cache_name=\"users\"")
        })
        .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok());
    assert_eq!(exported_loads, users["load_latency"]["count"].as_u64());
    for name in ["users", "orders"] {
        let report = stats["caches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        for tier in ["request", "local", "remote"] {
            for result in ["hit", "miss", "stale", "error"] {
                assert_eq!(
                    report["tiers"][tier][result].as_u64().unwrap(),
                    exported(&text, name, tier, result),
                    "{name} {tier} {result}"
                );
            }
        }
    }
}

#[tokio::test]
async fn stats_without_a_meter_still_have_the_whole_cache_totals() {
    let cache = Cache::builder().local(LocalTier::new(1 << 20)).build();
    load(&cache, "users", 1).await;
    let (status, stats) = call(&mount(admin(cache)), Method::GET, "/stats", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["caches"], Value::Array(vec![]));
    assert_eq!(stats["totals"]["loads"], 1);
    assert_eq!(stats["local"]["entries"], 1);
}

#[tokio::test]
async fn a_flag_change_applies_live_and_shows_in_the_table() {
    let (cache, _metrics) = metered_cache();
    let app = mount(admin(cache.clone()));
    let (status, table) = call(
        &app,
        Method::PUT,
        "/flags",
        Some(r#"{"spec":"users=off, orders=25%"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{table}");
    assert_eq!(cache.flags().mode("users"), FlagMode::Off);
    assert_eq!(cache.flags().mode("orders"), FlagMode::Percent(25));
    let (_, table) = call(&app, Method::GET, "/flags", None).await;
    let users = table["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "users")
        .unwrap();
    assert_eq!(
        (users["mode"].as_str(), users["layer"].as_str()),
        (Some("off"), Some("live"))
    );
}

#[tokio::test]
async fn a_flag_spec_with_one_bad_entry_is_refused_whole() {
    let cache = Cache::builder().build();
    let app = mount(admin(cache.clone()));
    let (status, body) = call(
        &app,
        Method::PUT,
        "/flags",
        Some(r#"{"spec":"users=off, orders=sometimes"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("orders=sometimes"),
        "{body}"
    );
    assert_eq!(cache.flags().mode("users"), FlagMode::On);
}

#[tokio::test]
async fn malformed_bodies_get_a_400_that_says_what_was_wrong() {
    let cache = Cache::builder().build();
    let app = mount(admin(cache.clone()));
    let cases = [
        (Method::PUT, "/flags", "users=off", "invalid request body"),
        (
            Method::PUT,
            "/flags",
            r#"{"spec":"users=off","extra":1}"#,
            "unknown field",
        ),
        (Method::PUT, "/flags", "{}", "missing field `spec`"),
        (Method::POST, "/invalidate", "{}", "exactly one of"),
        (
            Method::POST,
            "/invalidate",
            r#"{"key":"users:1","tag":"t"}"#,
            "exactly one of",
        ),
        (
            Method::POST,
            "/invalidate",
            r#"{"key":"users"}"#,
            "invalid key",
        ),
        (Method::POST, "/invalidate", r#"{"tag":""}"#, "tag is empty"),
        (Method::GET, "/keys/no-separator", "", "invalid key"),
    ];
    for (method, path, body, says) in cases {
        let body = (!body.is_empty()).then_some(body);
        let (status, answer) = call(&app, method.clone(), path, body).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{method} {path} {body:?}: {answer}"
        );
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(says), "{method} {path} {body:?}: {error}");
    }
    assert_eq!(cache.flags().mode("users"), FlagMode::On);
}

#[tokio::test]
async fn invalidating_a_key_or_a_tag_drops_exactly_that() {
    let cache = Cache::builder().local(LocalTier::new(1 << 20)).build();
    let (tagged, other) = (
        CacheKey::new("users", &("a:b", 1)),
        CacheKey::new("users", &2),
    );
    cache.set(&tagged, &1_u8, &opts().tags(["team:7"])).await;
    cache.set(&other, &2_u8, &opts()).await;
    let app = mount(admin(cache.clone()));

    let (status, body) = call(
        &app,
        Method::POST,
        "/invalidate",
        Some(r#"{"tag":"team:7"}"#),
    )
    .await;
    assert_eq!(
        (status, &body["invalidated"]["tag"]),
        (StatusCode::OK, &Value::from("team:7"))
    );
    assert_eq!(cache.get::<u8>(&tagged).await, None);
    assert_eq!(cache.get::<u8>(&other).await, Some(2));

    cache.set(&tagged, &1_u8, &opts()).await;
    let body = serde_json::json!({ "key": tagged.as_str() }).to_string();
    let (status, _) = call(&app, Method::POST, "/invalidate", Some(&body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache.get::<u8>(&tagged).await, None);
    assert_eq!(cache.get::<u8>(&other).await, Some(2));
}

#[tokio::test]
async fn the_key_inspector_shows_where_a_key_lives_and_until_when() {
    let cache = Cache::builder().local(LocalTier::new(1 << 20)).build();
    // A key whose text has `%`, `/` and `:` in it, sent percent-encoded as the page sends it.
    let key = CacheKey::new("users", &("a:b/c", 1));
    let before = now_ms();
    cache.set(&key, &"Ada".to_string(), &opts()).await;
    let app = mount(admin(cache));
    let path = format!("/keys/{}", encode_component(key.as_str()));
    let (status, found) = call(&app, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["key"], key.as_str());
    assert_eq!(found["tiers"], serde_json::json!(["local"]));
    let local = &found["local"];
    assert_eq!(local["state"], "fresh");
    let fresh = local["fresh_until_ms"].as_u64().unwrap();
    // The cache stamps with a coarse clock, up to a scheduler tick off the precise one.
    let after = now_ms();
    assert!(
        (before + 59_000..=after + 61_000).contains(&fresh),
        "before {before}, after {after}: {local}"
    );
    assert_eq!(local["stale_until_ms"].as_u64().unwrap(), fresh + 30_000);
    assert!(local["size_bytes"].as_u64().unwrap() > 0);
    assert_eq!(found["remote"]["status"], "not_configured");

    let (status, missing) = call(&app, Method::GET, "/keys/users:404", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (missing["tiers"].clone(), missing["local"].clone()),
        (serde_json::json!([]), Value::Null)
    );
}

struct Backlog(u64);

#[async_trait::async_trait]
impl HealthSource for Backlog {
    fn name(&self) -> &str {
        "queue"
    }
    async fn check(&self) -> HealthReport {
        let report = HealthReport::ok().detail("pending", self.0);
        if self.0 > 100 {
            report.finding("the queue is backing up")
        } else {
            report
        }
    }
}

#[tokio::test]
async fn health_gathers_every_source_and_is_ok_only_if_all_are() {
    let cache = Cache::builder().build();
    let (status, health) = call(&mount(admin(cache.clone())), Method::GET, "/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (health["ok"].as_bool(), health["sources"].clone()),
        (Some(true), serde_json::json!([]))
    );

    let app = mount(
        admin(cache)
            .health_source(Backlog(3))
            .health_source(Backlog(500)),
    );
    let (_, health) = call(&app, Method::GET, "/health", None).await;
    assert_eq!(health["ok"], false);
    assert_eq!(health["sources"][0]["details"]["pending"], 3);
    assert_eq!(health["sources"][0]["ok"], true);
    assert_eq!(
        health["sources"][1]["findings"],
        serde_json::json!(["the queue is backing up"])
    );
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}
