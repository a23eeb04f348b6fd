//! gzip decoding: whole-stream inflate into a caller's buffer (libdeflate,
//! the fastest inflate available as a crate) and a streaming reader
//! (zlib-rs through flate2) for reading a prefix or a region without
//! inflating the rest.

mod inflate;
mod stream;

pub use inflate::{inflate_members, Inflated};
pub use stream::{GzStream, Window};

/// True if `bytes` starts with the gzip magic.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}
