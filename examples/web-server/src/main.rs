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
    axum::serve(listener, router_with_timeout(state, config.request_timeout))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
