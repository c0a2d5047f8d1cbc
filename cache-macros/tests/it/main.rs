//! The integration tests of `cache-macros`, in one binary: what the macros do at run time
//! (`runtime`, `none_ttl`), and what they accept and reject at compile time (`ui`, trybuild over
//! `tests/ui/pass` and `tests/ui/fail`).

mod none_ttl;
mod runtime;
mod ui;
