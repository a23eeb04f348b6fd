#![no_main]
//! Fuzz target `gz_index`: see `fuzz_bodies::gz_index` (shared with the regression test).

#[path = "../../tests/fuzz_bodies/mod.rs"]
mod fuzz_bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::gz_index(data));
