#![no_main]
//! Fuzz target `file`: see `fuzz_bodies::file` (shared with the regression test).

#[path = "../../tests/fuzz_bodies/mod.rs"]
mod fuzz_bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::file(data));
