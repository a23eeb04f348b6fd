//! Whole-stream inflate with libdeflate, member by member.

use super::libdeflate::{Decoded, Decompressor};
use crate::error::{Error, Result};

/// Outcome of [`inflate_members`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inflated {
    /// The stream ended after this many output bytes (CRC32 and ISIZE of every member checked).
    Complete(usize),
    /// The stream holds more than the output buffer; the buffer is full and checked
    /// only up to the last complete member.
    Overflow,
}

/// Inflate every gzip member of `input` into `out`.
///
/// After the last member, zero padding and any other trailing bytes that do
/// not start a gzip member are ignored, as gzip(1) does.
pub fn inflate_members(input: &[u8], out: &mut [u8]) -> Result<Inflated> {
    let mut d = Decompressor::new()?;
    let (mut pos, mut written) = (0usize, 0usize);
    loop {
        let rest = &input[pos..];
        if rest == [0x1f] {
            // gzip(1) reads a lone 0x1f at the end as a member cut short.
            return Err(Error::gzip(
                pos as u64,
                "the stream ends inside a member header",
            ));
        }
        if !super::is_gzip(rest) {
            if pos == 0 {
                return Err(Error::gzip(0, "not a gzip stream (bad magic)"));
            }
            return Ok(Inflated::Complete(written));
        }
        match d.gzip(rest, &mut out[written..]) {
            Decoded::Done { used, produced } => {
                pos += used;
                written += produced;
            }
            Decoded::Overflow => return Ok(Inflated::Overflow),
            Decoded::Bad => {
                return Err(Error::gzip(
                    pos as u64,
                    "member is damaged or truncated (bad deflate data, CRC32 or ISIZE)",
                ))
            }
        }
    }
}
