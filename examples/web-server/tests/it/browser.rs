//! The cache dashboard in a real headless Chromium, driven over WebDriver by chromedriver:
//! start the server, drive load, open the page, enter the token, wait until every chart has
//! drawn non-zero data, switch a flag with the page's own control and check through the API
//! that it changed; then inspect and invalidate a key from the page. Needs the Debian packages `chromium` and `chromium-driver` (`scripts/test`
//! installs them); without them the test fails with the install command.
//!
//! Set `UPDATE_DASHBOARD_SCREENSHOT=1` to refresh `docs/dashboard.png` (the README's picture)
//! from the run; otherwise the screenshot goes to the target directory.

use crate::common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cache_redis::test_support::RedisServer;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use common::{Server, TOKEN, start_with};

/// Generous: the machine may be busy building; the page itself updates every second.
const WITHIN: Duration = Duration::from_secs(45);
const INSTALL: &str = "apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver \
     (or run scripts/test as root, which installs them)";

/// `tool`'s path on `PATH`, or a panic naming the install command.
fn require(tool: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(tool))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| {
            panic!("`{tool}` is not installed; the dashboard test needs it: {INSTALL}")
        })
}

/// A chromedriver process on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Driver {
    let chromedriver = require("chromedriver");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while reqwest::get(format!("{}/status", driver.url))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < WITHIN,
            "chromedriver did not answer on port {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    driver
}

async fn browser(driver: &Driver) -> Client {
    let chromium = require("chromium");
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1500"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session through chromedriver")
}

/// Requests the example's routes until `stop` is set: cache hits, misses and loads to draw.
fn drive_load(server: &Server, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<()> {
    let (client, base) = (server.client.clone(), server.base.clone());
    tokio::spawn(async move {
        let mut round = 0_u32;
        while !stop.load(Ordering::Relaxed) {
            let chain = 1 + round % 4;
            let post = 1 + round % 5;
            for path in [
                format!("/chains/{chain}/stores"),
                format!("/stores/{}", 1 + round % 40),
                format!("/posts/{post}"),
            ] {
                let _ = client.get(format!("{base}{path}")).send().await;
            }
            round += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

/// Evaluates `script` (a JS expression) in the page until it is `true`.
async fn until(page: &Client, what: &str, script: &str) {
    let started = Instant::now();
    loop {
        let value = page
            .execute(&format!("return ({script});"), vec![])
            .await
            .unwrap();
        if value == Value::Bool(true) {
            return;
        }
        assert!(started.elapsed() < WITHIN, "not within {WITHIN:?}: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn dashboard_in_chromium(redis_url: Option<String>) {
    let server = start_with(None, redis_url, None).await;
    let driver = start_driver().await;
    let page = browser(&driver).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = drive_load(&server, Arc::clone(&stop));

    page.goto(&format!("{}/admin/cache", server.base))
        .await
        .unwrap();
    page.find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(TOKEN)
        .await
        .unwrap();
    page.find(Locator::Css("#token-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // Every chart has drawn points with non-zero values, and the headline numbers show them.
    for chart in ["chart-ratio", "chart-rps", "chart-latency", "chart-bytes"] {
        until(
            &page,
            &format!("{chart} draws non-zero data"),
            &format!("Number(document.getElementById('{chart}').dataset.nonzero) > 0"),
        )
        .await;
    }
    until(
        &page,
        "requests/s shows traffic",
        "Number(document.getElementById('rps').dataset.value) > 0",
    )
    .await;
    until(&page, "the caches table lists chains",
        "[...document.querySelectorAll('#caches td:first-child')].some(td => td.textContent === 'chains')").await;

    // Switch `chains` off with the page's control; the API then reports it off.
    let control = page
        .wait()
        .at_most(WITHIN)
        .for_element(Locator::Css("select[data-flag='chains']"))
        .await
        .expect("the flags table has a switch for chains");
    control.select_by_value("off").await.unwrap();
    until(
        &page,
        "the page confirms the change",
        "document.getElementById('flag-result').textContent === 'applied: chains=off'",
    )
    .await;
    let table = server.admin_json("/admin/cache/flags").await;
    assert!(
        table["flags"]
            .as_array()
            .unwrap()
            .contains(&json!({"name": "chains", "mode": "off", "layer": "live"})),
        "{table}"
    );

    // The key inspector finds a post the load cached; the invalidate box drops it.
    let key = web_server::cached::post_cache_key(&1);
    submit(&page, "#inspect-key", key.as_str(), "#inspect-form button").await;
    until(
        &page,
        "the inspector shows the local entry",
        "document.getElementById('inspect-result').textContent.includes('held in: local')",
    )
    .await;
    save_screenshot(&page).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();
    submit(
        &page,
        "#invalidate-target",
        key.as_str(),
        "#invalidate-form button",
    )
    .await;
    until(
        &page,
        "the page confirms the invalidation",
        "document.getElementById('invalidate-result').textContent.startsWith('invalidated')",
    )
    .await;
    let found: Value = server
        .client
        .get(format!("{}/admin/cache/keys/{}", server.base, key.as_str()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["tiers"], json!([]), "{found}");
    page.close().await.unwrap();
}

/// The page as drawn, for the README when asked to, else for a human to look at after a run.
async fn save_screenshot(page: &Client) {
    let update = std::env::var_os("UPDATE_DASHBOARD_SCREENSHOT").is_some();
    if update {
        // A fuller picture: let the charts collect some history first.
        until(
            page,
            "a few seconds of history",
            "Number(document.getElementById('chart-rps').dataset.points) >= 20",
        )
        .await;
        page.execute(
            "window.scrollTo(0, 0); document.activeElement.blur(); return true;",
            vec![],
        )
        .await
        .unwrap();
    }
    let png = page.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = if update {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/dashboard.png")
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png")
    };
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_draws_live_data_and_switches_a_flag_in_chromium() {
    dashboard_in_chromium(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_chromium_with_redis() {
    let redis = RedisServer::start();
    dashboard_in_chromium(Some(redis.url())).await;
}

/// Types `text` into the field `input` and clicks `button`.
async fn submit(page: &Client, input: &str, text: &str, button: &str) {
    let field = page.find(Locator::Css(input)).await.unwrap();
    field.send_keys(text).await.unwrap();
    let button = page.find(Locator::Css(button)).await.unwrap();
    button.click().await.unwrap();
}
