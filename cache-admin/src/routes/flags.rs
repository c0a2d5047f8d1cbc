//! `GET|PUT flags`: the flag table, and live changes to it.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::{Deserialize, Serialize};

use crate::admin::Admin;
use crate::error::AdminError;

/// The body of `PUT flags`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FlagChange {
    /// `name=mode` entries separated by commas, e.g. `"chains=off, likes=25%"`.
    spec: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct FlagTable {
    /// Every explicitly set entry (`*` included) and the layer it comes from.
    flags: Vec<FlagEntry>,
}

#[derive(Debug, Serialize)]
struct FlagEntry {
    name: String,
    mode: String,
    layer: String,
}

fn table(admin: &Admin) -> FlagTable {
    let flags = admin
        .cache()
        .flags()
        .described()
        .into_iter()
        .map(|(name, mode, layer)| FlagEntry {
            name,
            mode: mode.to_string(),
            layer: format!("{layer:?}").to_lowercase(),
        })
        .collect();
    FlagTable { flags }
}

pub(crate) async fn show(State(admin): State<Admin>) -> Json<FlagTable> {
    Json(table(&admin))
}

/// Applies the spec on every node (through the publisher, if any) and answers the new table;
/// a spec with any invalid entry is refused whole.
pub(crate) async fn change(
    State(admin): State<Admin>,
    body: Result<Json<FlagChange>, JsonRejection>,
) -> Result<Json<FlagTable>, AdminError> {
    let Json(change) = body.map_err(|e| AdminError::Body(e.body_text()))?;
    admin.change_flags(&change.spec).await?;
    Ok(Json(table(&admin)))
}
