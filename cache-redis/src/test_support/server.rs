//! One throwaway `redis-server`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::{NOT_INSTALLED, resp};

/// A `redis-server` on 127.0.0.1 and a free port, with persistence off; killed on drop.
///
/// ```no_run
/// use cache_redis::test_support::RedisServer;
/// let server = RedisServer::start();
/// assert_eq!(server.query(&["PING"]).unwrap(), "PONG");
/// server.kill();
/// server.restart(); // same port, empty data set
/// ```
pub struct RedisServer {
    port: u16,
    args: Vec<String>,
    child: Mutex<Option<Child>>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers `PING`.
    ///
    /// # Panics
    /// If `redis-server` is not on `PATH`, or no server came up after several ports.
    pub fn start() -> RedisServer {
        RedisServer::start_with(&[])
    }

    /// Like [`start`](RedisServer::start), with extra `redis-server` arguments, e.g.
    /// `&["--requirepass", "secret"]`.
    pub fn start_with(args: &[&str]) -> RedisServer {
        for _ in 0..10 {
            if let Some(server) = RedisServer::spawn_on(free_port(), args) {
                return server;
            }
        }
        panic!("could not start redis-server on any of 10 free ports");
    }

    /// A server on `port`, or `None` if it exited before answering (port taken).
    pub(crate) fn spawn_on(port: u16, args: &[&str]) -> Option<RedisServer> {
        let server = RedisServer {
            port,
            args: args.iter().map(|a| a.to_string()).collect(),
            child: Mutex::new(None),
        };
        server.launch().then_some(server)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the process (SIGKILL) and waits for it; the port is free afterwards.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (killing it first if it runs); the data set is empty.
    ///
    /// # Panics
    /// If it does not come back within a few seconds.
    pub fn restart(&self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.launch() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not restart on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Freezes the process with `SIGSTOP`: the port stays open and accepts connections, but
    /// nothing is answered until [`resume`](RedisServer::resume) — a hung server, unlike a
    /// killed one, makes clients wait for their timeouts. No-op if it is not running.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a [`pause`](RedisServer::pause)d process run again (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Sends a signal with the `kill` utility (this crate forbids `unsafe`, so no `libc`).
    fn signal(&self, signal: &str) {
        if let Some(child) = self.child.lock().as_ref() {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "kill {signal} {} failed",
                child.id()
            );
        }
    }

    /// Sends one command (blocking) and returns the reply as text; error replies start with `-`.
    pub fn query(&self, args: &[&str]) -> std::io::Result<String> {
        resp::command(self.port, args)
    }

    fn launch(&self) -> bool {
        let port = self.port.to_string();
        let spawned = Command::new("redis-server")
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{NOT_INSTALLED}"),
            Err(e) => panic!("could not run redis-server: {e}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return false;
            }
            if self.answers_as(child.id()) {
                *self.child.lock() = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    /// Whether the process answering on the port is `pid` (and not some other server).
    fn answers_as(&self, pid: u32) -> bool {
        match resp::command(self.port, &["INFO", "server"]) {
            Ok(info) if info.starts_with("-NOAUTH") => true,
            Ok(info) => info.contains(&format!("process_id:{pid}\r")),
            Err(_) => false,
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisServer({})", self.port)
    }
}

/// A port nothing listens on right now (bind port 0, read it, release it).
fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port on 127.0.0.1")
}
