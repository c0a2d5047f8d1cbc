//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the very checks the
//! `cargo fuzz` targets run (`fuzz/src/checks.rs`, included below), so every input the
//! fuzzer kept, including minimised crashes that were fixed, stays covered by `cargo test`.

#[path = "../../../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;

use std::path::PathBuf;

/// Runs `check` on every file of `fuzz/corpus/<target>` on an ordinary test thread (2 MiB of
/// stack: the decoder caps nesting, so deep inputs cannot overflow it); fails if the directory
/// is missing or empty.
fn replay(target: &'static str, check: fn(&[u8])) {
    replay_here(target, check);
}

fn replay_here(target: &str, check: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus directory {} is missing: {e}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "corpus file {} fails", path.display());
        count += 1;
    }
    assert!(count > 0, "corpus directory {} is empty", dir.display());
    println!("{target}: {count} inputs replayed");
}

#[test]
fn envelope_decode_corpus() {
    replay("envelope_decode", checks::envelope);
}

#[test]
fn cache_key_corpus() {
    replay("cache_key", checks::keys);
}
