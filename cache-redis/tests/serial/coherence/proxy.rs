//! A TCP proxy with a switchable upstream: the "failover endpoint" the single-node run connects
//! through. Switching closes every existing connection, as a real endpoint does when it moves
//! to the promoted replica, so clients must reconnect (and resubscribe) to reach the new one.

use std::time::Duration;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Listens on a free 127.0.0.1 port; forwards each connection to `127.0.0.1:<upstream>`.
pub struct Proxy {
    port: u16,
    upstream: watch::Sender<u16>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind the proxy on 127.0.0.1");
        let port = listener.local_addr().expect("proxy address").port();
        let (upstream, watch) = watch::channel(upstream);
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(forward(client, watch.clone()));
            }
        });
        Proxy {
            port,
            upstream,
            accept,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Points new connections at `upstream` and closes every existing one.
    pub fn switch(&self, upstream: u16) {
        self.upstream.send_replace(upstream);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Dropping the sender (with `self`) ends every forwarding task too.
        self.accept.abort();
    }
}

/// Copies both ways until either side closes or the upstream is switched. The upstream is read
/// with `borrow_and_update`, so a switch racing with this connect still closes it afterwards.
async fn forward(mut client: TcpStream, mut upstream: watch::Receiver<u16>) {
    let port = *upstream.borrow_and_update();
    let connect = TcpStream::connect(("127.0.0.1", port));
    // A SIGSTOPped upstream still completes the handshake (the kernel does), so the bound only
    // matters for a dead host; the client's own timeout is what really limits it.
    let Ok(Ok(mut server)) = tokio::time::timeout(Duration::from_secs(2), connect).await else {
        return;
    };
    tokio::select! {
        _ = copy_bidirectional(&mut client, &mut server) => {}
        _ = upstream.changed() => {}
    }
}
