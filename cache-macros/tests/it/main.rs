//! The integration tests of `cache-macros`, in one binary: what the macros do at run time
//! (`runtime`), and what they accept and reject at compile time (`ui`, trybuild over
//! `tests/ui/pass` and `tests/ui/fail`).

mod runtime;
mod ui;
