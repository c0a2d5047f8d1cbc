//! Compile-time behaviour of the macros: every `pass` case compiles and runs (each asserts its
//! own memoization in `main`), every `fail` case fails with the message in its `.stderr`.
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test -p cache-macros --test it ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
