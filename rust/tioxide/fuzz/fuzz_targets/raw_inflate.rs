#![no_main]
//! Fuzz target `raw_inflate`: see `fuzz_bodies::raw_inflate` (shared with the regression test).

#[path = "../../tests/fuzz_bodies/mod.rs"]
mod fuzz_bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::raw_inflate(data));
