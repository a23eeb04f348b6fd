//! Raw-deflate inflate with zlib-rs that stops at every block boundary and
//! can start from the middle of a stream (the zran technique): the two
//! things libdeflate cannot do, and exactly what building a seek index needs.

use libz_rs_sys as z;

use crate::error::{Error, Result};

/// What one [`RawInflate::step`] did.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Input bytes consumed.
    pub used: usize,
    /// Output bytes written.
    pub produced: usize,
    /// The deflate stream's final block has been decoded.
    pub stream_end: bool,
    /// Stopped right after a block (a place a checkpoint can go).
    pub at_block_end: bool,
    /// The block that follows is the stream's last one.
    pub last_block: bool,
    /// Consumed input bits not yet decoded (zlib-rs reads ahead up to 63 bits).
    pub unused_bits: u8,
}

/// A zlib-rs raw inflate state.
pub struct RawInflate {
    // Boxed: zlib keeps a pointer back to its z_stream and checks it.
    strm: Box<z::z_stream>,
}

// SAFETY: the state is owned memory with no thread affinity; every use goes
// through `&mut self`.
unsafe impl Send for RawInflate {}

fn out_of_memory() -> Error {
    Error::Io(std::io::Error::from(std::io::ErrorKind::OutOfMemory))
}

impl RawInflate {
    /// A raw (headerless) inflate with a 32 KiB window.
    pub fn new() -> Result<RawInflate> {
        let mut strm = Box::new(z::z_stream::default());
        // SAFETY: `strm` is a zeroed z_stream (null allocator fields select
        // zlib-rs's default allocator); the version string and struct size
        // are the library's own.
        let code = unsafe {
            z::inflateInit2_(
                &mut *strm,
                -15,
                z::zlibVersion(),
                std::mem::size_of::<z::z_stream>() as i32,
            )
        };
        match code {
            z::Z_OK => Ok(RawInflate { strm }),
            _ => Err(out_of_memory()),
        }
    }

    /// Start a new deflate stream (after a member ends).
    pub fn reset(&mut self) {
        // SAFETY: `strm` was initialised in `new` and is ended only in `drop`.
        unsafe { z::inflateReset(&mut *self.strm) };
    }

    /// Feed the `n` (1 to 7) high bits of a byte whose low bits belong to
    /// the previous block.
    pub fn prime(&mut self, n: u8, value: u8) -> Result<()> {
        // SAFETY: as in `reset`.
        match unsafe { z::inflatePrime(&mut *self.strm, i32::from(n), i32::from(value)) } {
            z::Z_OK => Ok(()),
            _ => Err(Error::gzip(0, "cannot resume inflate at this bit")),
        }
    }

    /// The output (at most 32 KiB) that precedes the resume point.
    pub fn set_dictionary(&mut self, window: &[u8]) -> Result<()> {
        // SAFETY: as in `reset`; the pointer and length describe `window`.
        let code = unsafe {
            z::inflateSetDictionary(&mut *self.strm, window.as_ptr(), window.len() as u32)
        };
        match code {
            z::Z_OK => Ok(()),
            _ => Err(Error::gzip(0, "cannot resume inflate with this window")),
        }
    }

    /// Inflate from `input`, appending to `out` in its spare capacity (not
    /// zeroed first), stopping at the next block boundary, when the input is
    /// used up or when the capacity is full. `offset` is the compressed
    /// position of `input[0]`, for error messages.
    pub fn step(&mut self, input: &[u8], out: &mut Vec<u8>, offset: u64) -> Result<Step> {
        let avail_in = input.len().min(u32::MAX as usize);
        let spare = out.spare_capacity_mut();
        let avail_out = spare.len().min(u32::MAX as usize);
        self.strm.next_in = input.as_ptr().cast_mut();
        self.strm.avail_in = avail_in as u32;
        self.strm.next_out = spare.as_mut_ptr().cast::<u8>();
        self.strm.avail_out = avail_out as u32;
        // SAFETY: the stream is initialised (see `reset`); next_in/avail_in
        // describe the live slice `input`, next_out/avail_out the spare
        // capacity of `out`, both outliving this call. zlib-rs reads and
        // writes only within them, and of the output reads back only what
        // this call wrote (matches further back come from its own window):
        // uninitialised spare capacity is what its API takes.
        let code = unsafe { z::inflate(&mut *self.strm, z::Z_BLOCK) };
        let used = avail_in - self.strm.avail_in as usize;
        let produced = avail_out - self.strm.avail_out as usize;
        self.strm.next_in = std::ptr::null_mut();
        self.strm.next_out = std::ptr::null_mut();
        // SAFETY: zlib-rs wrote `produced` bytes from the start of the spare
        // capacity on (whatever it returned), inside the capacity.
        unsafe { out.set_len(out.len() + produced) };
        let data_type = self.strm.data_type;
        let stream_end = match code {
            z::Z_OK | z::Z_BUF_ERROR => false,
            z::Z_STREAM_END => true,
            z::Z_MEM_ERROR => return Err(out_of_memory()),
            _ => return Err(Error::gzip(offset + used as u64, "invalid deflate data")),
        };
        Ok(Step {
            used,
            produced,
            stream_end,
            at_block_end: data_type & 128 != 0,
            last_block: data_type & 64 != 0,
            // zlib-rs puts its bit-buffer fill (< 64) in the low bits, where
            // zlib keeps fewer than 8.
            unused_bits: (data_type & 63) as u8,
        })
    }
}

impl Drop for RawInflate {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, ended exactly once here.
        unsafe { z::inflateEnd(&mut *self.strm) };
    }
}
