//! `cargo run -p web-server [-- --warm]`: see the crate README for the environment variables.

use web_server::app::router_with_timeout;
use web_server::db::SeedSize;
use web_server::{AppState, Config};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    if let Err(error) = run().await {
        eprintln!("web-server: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    tracing::info!(?config, "starting");
    let state = AppState::build(&config, SeedSize::FULL).await?;
    if config.admin_token.is_none() {
        println!(
            "admin token (set ADMIN_TOKEN to choose one): {}",
            state.admin_token
        );
    }
    if config.warm {
        let n = web_server::warm::warm(&state).await?;
        tracing::info!(chains = n, "cache warmed");
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| format!("binding {}: {e}", config.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{addr}");
    let app = router_with_timeout(state.clone(), config.request_timeout);
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let signal = shutdown_signal().await;
        tracing::info!(
            signal,
            "stopping: no new connections, finishing in-flight requests"
        );
        let _ = stop_tx.send(true);
    });
    let mut graceful_rx = stop_rx.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful_rx.wait_for(|stop| *stop).await;
    });
    let server = std::future::IntoFuture::into_future(server);
    tokio::pin!(server);
    tokio::select! {
        served = &mut server => served.map_err(|e| e.to_string())?,
        _ = stop_rx.wait_for(|stop| *stop) => {
            // Listener closed; in-flight requests get at most the grace period.
            match tokio::time::timeout(config.shutdown_grace, &mut server).await {
                Ok(served) => served.map_err(|e| e.to_string())?,
                Err(_) => tracing::warn!(
                    grace = ?config.shutdown_grace,
                    "in-flight requests still running after the grace period; dropping them"
                ),
            }
        }
    }
    // Buffered likes (write-back through Redis) go to the database now. Were this to fail or be
    // cut short, they stay in Redis and the next node's flusher writes them (each batch once).
    match state.likes.flush().await {
        Ok(()) => tracing::info!("buffered likes flushed"),
        Err(error) => {
            tracing::warn!(%error, "flushing likes; they stay in Redis for the next node")
        }
    }
    // Invalidations queued while Redis was unreachable (the flush above may add some) are
    // replayed and announced before exit; what is still queued after the bound is lost and the
    // entries it would have dropped age out with their TTL.
    if let Some(redis) = &state.redis {
        match redis.replay_pending(config.shutdown_grace).await {
            0 => tracing::info!("pending invalidations replayed"),
            left => tracing::warn!(
                left,
                "invalidations still queued at exit; their entries expire by TTL"
            ),
        }
    }
    state.db.close().await;
    // The last interval's points go to the OTLP collector, if one is configured.
    if let Err(error) = state.metrics.shutdown() {
        tracing::warn!(%error, "flushing metrics at exit");
    }
    println!("stopped");
    Ok(())
}

/// Resolves with the signal's name on the first SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops gracefully");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
