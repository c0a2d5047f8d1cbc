//! SIGTERM on the real binary: it stops accepting, lets the request in flight finish, and exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use web_server::db::Db;

use crate::common::TOKEN;
use crate::lifecycle::{SMALL_SEED, db_file};

/// Starts the binary on a free port over a small pre-seeded database, with `env` set on top of
/// the test defaults; returns it and its address.
pub async fn spawn_binary(db_url: &str, env: &[(&str, &str)]) -> (Child, SocketAddr) {
    // Seeded here, small, so the binary finds the tables full and skips its large seed.
    Db::open(db_url, SMALL_SEED).await.expect("seeding");
    let mut child = Command::new(env!("CARGO_BIN_EXE_web-server"))
        .env("BIND", "127.0.0.1:0")
        .env("DATABASE_URL", db_url)
        .env("ADMIN_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .env_remove("REDIS_URL")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawning web-server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("web-server exited").unwrap();
        if let Some(url) = line.strip_prefix("listening on http://") {
            break url.parse().unwrap();
        }
    };
    // Keep draining stdout so the child never blocks writing to it.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

pub fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("web-server still running {limit:?} after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0() {
    stops_gracefully_on("-TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_finishes_the_request_in_flight_refuses_new_ones_and_exits_0() {
    stops_gracefully_on("-INT").await;
}

async fn stops_gracefully_on(signal: &str) {
    let file = db_file("shutdown");
    let db_url = format!("sqlite://{}?mode=rwc", file.display());
    let (mut child, addr) = spawn_binary(&db_url, &[]).await;

    // A request in flight: headers sent, half of the body still to come.
    let body = br#"{"spec": "chains=on"}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut slow = TcpStream::connect(addr).unwrap();
    write!(
        slow,
        "PUT /admin/flags HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    slow.write_all(first).unwrap();
    slow.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    // New connections are refused once the signal is handled.
    let started = Instant::now();
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Err(_) => break,
            Ok(_) if started.elapsed() > Duration::from_secs(5) => {
                panic!("still accepting connections 5 s after {signal}")
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let refused_after = started.elapsed();
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );

    // The request in flight completes.
    slow.write_all(rest).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut response = String::new();
    slow.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let exit = wait_with_timeout(&mut child, Duration::from_secs(10));
    println!(
        "{signal}: refused new connections after {refused_after:?}; in-flight got 200; {exit}"
    );
    assert_eq!(exit.code(), Some(0));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}
