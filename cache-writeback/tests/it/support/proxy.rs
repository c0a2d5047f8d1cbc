//! A TCP proxy on a loopback port that can be pointed at another server, closing the
//! connections it carries: what a managed Redis "primary endpoint" does on failover. It can
//! also freeze (hold every byte, keep the sockets open): on a replication link, a replica
//! that its primary still counts as connected but that receives nothing, i.e. lag.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Proxy {
    port: u16,
    target: Arc<AtomicU16>,
    /// Bumped on every switch; connections opened before it close.
    epoch: watch::Sender<u64>,
    frozen: watch::Sender<bool>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to 127.0.0.1:`target`.
    pub async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = Arc::new(AtomicU16::new(target));
        let (epoch, _) = watch::channel(0u64);
        let (frozen, _) = watch::channel(false);
        let (to, epochs, freezes) = (Arc::clone(&target), epoch.subscribe(), frozen.subscribe());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut closed = epochs.clone();
                let at = *closed.borrow_and_update();
                let port = to.load(Ordering::SeqCst);
                let freezes = freezes.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", port)).await else {
                        return;
                    };
                    if *closed.borrow() != at {
                        return;
                    }
                    let (client_in, client_out) = client.into_split();
                    let (server_in, server_out) = server.into_split();
                    tokio::select! {
                        _ = pump(client_in, server_out, freezes.clone()) => {}
                        _ = pump(server_in, client_out, freezes) => {}
                        _ = closed.changed() => {}
                    }
                });
            }
        });
        Proxy {
            port,
            target,
            epoch,
            frozen,
            accept,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Forwards new connections to `target` and closes every open one.
    pub fn switch(&self, target: u16) {
        self.target.store(target, Ordering::SeqCst);
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Holds (`true`) or passes (`false`) the bytes of every connection.
    pub fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

/// Copies `from` to `to`, holding data while frozen; ends when either side closes.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut frozen: watch::Receiver<bool>) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.wait_for(|f| !*f).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
