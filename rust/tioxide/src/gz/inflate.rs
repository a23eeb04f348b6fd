//! Whole-stream inflate with libdeflate, member by member.

use libdeflate_sys as ffi;

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

struct Decompressor(*mut ffi::libdeflate_decompressor);

impl Decompressor {
    fn new() -> Result<Decompressor> {
        // SAFETY: plain allocation call with no arguments; null is handled below.
        let ptr = unsafe { ffi::libdeflate_alloc_decompressor() };
        if ptr.is_null() {
            return Err(Error::Io(std::io::Error::from(
                std::io::ErrorKind::OutOfMemory,
            )));
        }
        Ok(Decompressor(ptr))
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: self.0 came from libdeflate_alloc_decompressor and is freed once.
        unsafe { ffi::libdeflate_free_decompressor(self.0) }
    }
}

/// Inflate every gzip member of `input` into `out`.
///
/// After the last member, zero padding and any other trailing bytes that do
/// not start a gzip member are ignored, as gzip(1) does.
pub fn inflate_members(input: &[u8], out: &mut [u8]) -> Result<Inflated> {
    let d = Decompressor::new()?;
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
        let target = &mut out[written..];
        let (mut used, mut produced) = (0usize, 0usize);
        // SAFETY: the pointers and lengths describe live, non-overlapping slices
        // (`rest` borrowed from `input`, `target` from `out`); libdeflate writes at
        // most `target.len()` bytes and only reads `rest.len()` bytes.
        let code = unsafe {
            ffi::libdeflate_gzip_decompress_ex(
                d.0,
                rest.as_ptr().cast(),
                rest.len(),
                target.as_mut_ptr().cast(),
                target.len(),
                &mut used,
                &mut produced,
            )
        };
        match code {
            ffi::libdeflate_result_LIBDEFLATE_SUCCESS => {
                pos += used;
                written += produced;
            }
            ffi::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => return Ok(Inflated::Overflow),
            _ => {
                return Err(Error::gzip(
                    pos as u64,
                    "member is damaged or truncated (bad deflate data, CRC32 or ISIZE)",
                ))
            }
        }
    }
}
