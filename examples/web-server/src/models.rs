//! What the API returns: the `web-server-model` crate's types, which the benches share.

pub use web_server_model::{ChainVersion, PostJson, StoreJson, StorePatch};
