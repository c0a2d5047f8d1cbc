//! `--warm` (seed 001): load every chain list before serving, with a progress bar.

use indicatif::{ProgressBar, ProgressStyle};

use crate::cached;
use crate::state::AppState;

/// Loads every chain's store list into the cache. Returns how many lists were loaded.
pub async fn warm(app: &AppState) -> Result<usize, String> {
    let chains = app.db.chain_ids().await.map_err(|e| e.to_string())?;
    let bar = ProgressBar::new(chains.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("warming {bar:40} {pos}/{len} chain lists ({elapsed})")
            .map_err(|e| e.to_string())?,
    );
    for chain_id in &chains {
        if let Some(version) = app
            .db
            .chain_version(*chain_id)
            .await
            .map_err(|e| e.to_string())?
        {
            cached::chain_stores(app, *chain_id, version)
                .await
                .map_err(|e| e.to_string())?;
        }
        bar.inc(1);
    }
    bar.finish();
    Ok(chains.len())
}
