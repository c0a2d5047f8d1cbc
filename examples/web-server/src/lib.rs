//! The example server as a library, so tests can start it on a free port.
//!
//! Routes: `GET /chains/{id}/stores`, `GET|PATCH /stores/{id}`, `GET /posts/{id}`,
//! `POST /posts/{id}/like`, `GET /me/recommendations`, `GET|PUT /admin/flags`, `GET /metrics`,
//! `GET /healthz`, and `POST /demo/token` when `DEMO_AUTH=1`. Per-user routes and writes take a
//! signed bearer token ([`auth`]); bodies are limited ([`limits`]). See the crate README for how
//! to run it with Redis and Grafana.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod auth;
pub mod cached;
pub mod config;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod last_known;
pub mod likes;
pub mod limits;
pub mod models;
pub mod otlp;
pub mod routes;
pub mod state;
pub mod timeout;
pub mod warm;

pub use app::router;
pub use config::Config;
pub use state::AppState;
