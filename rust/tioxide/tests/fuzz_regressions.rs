//! Replays every input kept from fuzzing (crashes found and fixed, plus a
//! few seeds) through the bodies of the cargo-fuzz targets, so that CI
//! checks them without a fuzzer: `tests/fuzz_regressions/<target>/*`.

mod fuzz_bodies;

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no kept inputs in {}", dir.display());
    for path in inputs {
        let data = std::fs::read(&path).unwrap();
        let run = std::panic::catch_unwind(|| body(&data));
        assert!(run.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn header_inputs() {
    replay("header", fuzz_bodies::header);
}

#[test]
fn gz_decode_inputs() {
    replay("gz_decode", fuzz_bodies::gz_decode);
}

#[test]
fn raw_inflate_inputs() {
    replay("raw_inflate", fuzz_bodies::raw_inflate);
}

#[test]
fn gz_index_inputs() {
    replay("gz_index", fuzz_bodies::gz_index);
}

#[test]
fn region_inputs() {
    replay("region", fuzz_bodies::region);
}

#[test]
fn file_inputs() {
    replay("file", fuzz_bodies::file);
}
