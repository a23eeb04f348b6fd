//! gzip decoding: whole-stream inflate into a caller's buffer (tioxide's
//! own decoder on streams of short matches between literals, libdeflate on
//! the others; each where it measured fastest), a streaming reader (zlib-rs
//! through flate2) for reading a prefix, and random access through a seek
//! index (built with zlib-rs, read back with libdeflate, in parallel).

mod bits;
mod build;
mod chunk;
mod compress;
mod engine;
mod huffman;
mod index;
mod inflate;
mod libdeflate;
mod lru;
mod member;
mod parallel;
mod pipeline;
mod random;
mod raw_inflate;
mod sidecar;
mod source;
mod stream;
mod window_pack;
mod zstream;

pub use build::{extend, first_data_offset, DecodedChunk};
pub use chunk::{
    continue_chunk, decode_chunk, decode_chunk_in, prefix_len, ChunkInput, PartialChunk,
};
pub use compress::{gzip_parallel, gzip_parallel_from};
pub use index::{
    Checkpoint, SeekIndex, Stop, DEFAULT_SPAN, MIN_SPAN, OUTPUT_PER_INDEX_BYTE, WINDOW,
};
pub use inflate::{in_place_margin, inflate_members, inflate_members_in_place, Inflated};
pub use libdeflate::{Decoded, Decompressor};
pub use lru::LruStats;
pub use parallel::{set_threads, threads};
pub use random::{
    cache_stats, clear_caches, set_cache_budgets, set_span, span, take_warnings, IndexedGz,
    DEFAULT_CHUNK_BUDGET, DEFAULT_INDEX_BUDGET,
};
pub use raw_inflate::{RawInflater, RawOutcome};
pub use sidecar::{load as load_sidecar, save as save_sidecar, sidecar_path};
pub use source::ReadAt;
pub use stream::GzStream;

/// True if `bytes` starts with the gzip magic.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}
