//! Safe handles on libdeflate's whole-buffer (de)compressors.

use libdeflate_sys as ffi;

use crate::error::{Error, Result};

fn out_of_memory() -> Error {
    Error::Io(std::io::Error::from(std::io::ErrorKind::OutOfMemory))
}

/// Outcome of one whole-buffer decompression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// The stream ended: bytes consumed and produced.
    Done {
        /// Compressed bytes consumed.
        used: usize,
        /// Bytes written to the output.
        produced: usize,
    },
    /// The output buffer is too small.
    Overflow,
    /// The data is not valid for the format.
    Bad,
}

/// A libdeflate decompressor.
pub struct Decompressor(*mut ffi::libdeflate_decompressor);

// SAFETY: a libdeflate decompressor is plain memory with no thread affinity;
// `&mut self` on every use keeps it from being used by two threads at once.
unsafe impl Send for Decompressor {}

impl Decompressor {
    /// Allocate one.
    pub fn new() -> Result<Decompressor> {
        // SAFETY: plain allocation call with no arguments; null is handled below.
        let ptr = unsafe { ffi::libdeflate_alloc_decompressor() };
        if ptr.is_null() {
            return Err(out_of_memory());
        }
        Ok(Decompressor(ptr))
    }

    /// # Safety
    ///
    /// `input` must be valid for reads of `in_len` bytes and `out` for
    /// writes of `out_len` bytes, for the whole call.
    unsafe fn run(
        &mut self,
        gzip: bool,
        input: *const u8,
        in_len: usize,
        out: *mut u8,
        out_len: usize,
    ) -> Decoded {
        let (mut used, mut produced) = (0usize, 0usize);
        let f = if gzip {
            ffi::libdeflate_gzip_decompress_ex
        } else {
            ffi::libdeflate_deflate_decompress_ex
        };
        // SAFETY: the caller vouches for both ranges; libdeflate reads at
        // most `in_len` bytes and writes at most `out_len` bytes.
        let code = unsafe {
            f(
                self.0,
                input.cast(),
                in_len,
                out.cast(),
                out_len,
                &mut used,
                &mut produced,
            )
        };
        match code {
            ffi::libdeflate_result_LIBDEFLATE_SUCCESS => Decoded::Done { used, produced },
            ffi::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Decoded::Overflow,
            _ => Decoded::Bad,
        }
    }

    /// Decompress one gzip member between raw ranges, which may lie in one
    /// buffer (see [`crate::gz::inflate_members_in_place`]).
    ///
    /// # Safety
    ///
    /// As for a slice: `input` readable for `in_len` bytes, `out` writable
    /// for `out_len` bytes, both for the whole call.
    pub(crate) unsafe fn gzip_raw(
        &mut self,
        input: *const u8,
        in_len: usize,
        out: *mut u8,
        out_len: usize,
    ) -> Decoded {
        // SAFETY: forwarded from the caller.
        unsafe { self.run(true, input, in_len, out, out_len) }
    }

    /// Decompress one gzip member (header, deflate data, checked trailer).
    pub fn gzip(&mut self, input: &[u8], out: &mut [u8]) -> Decoded {
        // SAFETY: two live slices, distinct since one is borrowed mutably.
        unsafe {
            self.run(
                true,
                input.as_ptr(),
                input.len(),
                out.as_mut_ptr(),
                out.len(),
            )
        }
    }

    /// Decompress raw deflate data up to and including its final block.
    pub fn deflate(&mut self, input: &[u8], out: &mut [u8]) -> Decoded {
        // SAFETY: two live slices, distinct since one is borrowed mutably.
        unsafe {
            self.run(
                false,
                input.as_ptr(),
                input.len(),
                out.as_mut_ptr(),
                out.len(),
            )
        }
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: self.0 came from libdeflate_alloc_decompressor and is freed once.
        unsafe { ffi::libdeflate_free_decompressor(self.0) }
    }
}

/// A libdeflate compressor at a fixed level.
pub struct Compressor(*mut ffi::libdeflate_compressor);

// SAFETY: as for `Decompressor`.
unsafe impl Send for Compressor {}

impl Compressor {
    /// Allocate one for `level` (0 to 12).
    pub fn new(level: i32) -> Result<Compressor> {
        // SAFETY: plain allocation call; null (bad level or no memory) is handled below.
        let ptr = unsafe { ffi::libdeflate_alloc_compressor(level) };
        if ptr.is_null() {
            return Err(out_of_memory());
        }
        Ok(Compressor(ptr))
    }

    /// Raw deflate of `input`, or `None` if it would not be smaller.
    pub fn deflate(&mut self, input: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0u8; input.len().saturating_sub(1)];
        // SAFETY: the pointers and lengths describe live, non-overlapping
        // slices; libdeflate writes at most `out.len()` bytes.
        let n = unsafe {
            ffi::libdeflate_deflate_compress(
                self.0,
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
            )
        };
        if n == 0 {
            return None;
        }
        out.truncate(n);
        Some(out)
    }
}

impl Drop for Compressor {
    fn drop(&mut self) {
        // SAFETY: self.0 came from libdeflate_alloc_compressor and is freed once.
        unsafe { ffi::libdeflate_free_compressor(self.0) }
    }
}
