//! The integration tests of `cache-macros`, in one binary: what the macros do at run time
//! (`runtime`, `none_ttl`; `async_trait_methods` for the methods of `#[async_trait]` impls), and
//! what they accept and reject at compile time (`ui`, trybuild over `tests/ui/pass` and
//! `tests/ui/fail`).

mod adapt;
mod async_trait_methods;
mod batch;
mod none_ttl;
mod refresh;
mod runtime;
mod ui;
