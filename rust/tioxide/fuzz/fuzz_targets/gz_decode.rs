#![no_main]
//! Fuzz target `gz_decode`: see `fuzz_bodies::gz_decode` (shared with the regression test).

#[path = "../../tests/fuzz_bodies/mod.rs"]
mod fuzz_bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_bodies::gz_decode(data));
