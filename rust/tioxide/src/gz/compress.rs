//! Parallel gzip compression, pigz style: the input is cut into blocks that
//! compress on all cores, each primed with the 32 KiB before it (so the
//! ratio barely suffers) and ended with a sync flush (so each ends on a byte
//! boundary); concatenated they form one standard gzip member that gzip(1),
//! nibabel, SimpleITK and indexed_gzip read. Every block boundary is a seek
//! index checkpoint whose window is the input before it, so the index comes
//! for free.

use std::borrow::Cow;
use std::io::Write;

use crc32fast::Hasher;
use libz_rs_sys as z;

use super::index::{Checkpoint, SeekIndex, WINDOW};
use super::libdeflate::Compressor;
use super::parallel;
use super::source::ReadAt;
use crate::error::{Error, Result};

/// Input per block (one task, one checkpoint).
pub const BLOCK: usize = 1 << 20;

/// A zlib-rs raw deflate stream.
struct Deflate {
    strm: Box<z::z_stream>,
}

// SAFETY: the state is owned memory with no thread affinity; every use goes
// through `&mut self`.
unsafe impl Send for Deflate {}

impl Deflate {
    fn new(level: i32) -> Result<Deflate> {
        let mut strm = Box::new(z::z_stream::default());
        // SAFETY: `strm` is a zeroed z_stream (null allocator fields select
        // zlib-rs's default allocator); version and size are the library's own.
        let code = unsafe {
            z::deflateInit2_(
                &mut *strm,
                level,
                z::Z_DEFLATED,
                -15,
                8,
                z::Z_DEFAULT_STRATEGY,
                z::zlibVersion(),
                std::mem::size_of::<z::z_stream>() as i32,
            )
        };
        match code {
            z::Z_OK => Ok(Deflate { strm }),
            _ => Err(Error::InvalidData(format!(
                "cannot compress at level {level}"
            ))),
        }
    }

    /// Deflate `input` after `dictionary` (the input before it), ending with
    /// a sync flush, or with the final block when `last`.
    fn block(&mut self, dictionary: &[u8], input: &[u8], last: bool) -> Result<Vec<u8>> {
        let fail = || Error::Io(std::io::Error::other("deflate failed"));
        if !dictionary.is_empty() {
            // SAFETY: the stream was initialised in `new`; pointer and length
            // describe `dictionary`.
            let code = unsafe {
                z::deflateSetDictionary(
                    &mut *self.strm,
                    dictionary.as_ptr(),
                    dictionary.len() as u32,
                )
            };
            if code != z::Z_OK {
                return Err(fail());
            }
        }
        // SAFETY: the stream was initialised in `new`.
        let bound = unsafe { z::deflateBound(&mut *self.strm, input.len() as _) } as usize;
        // Plus the sync flush's empty stored block.
        let mut out = vec![0u8; bound + 16];
        self.strm.next_in = input.as_ptr().cast_mut();
        self.strm.avail_in = input.len() as u32;
        self.strm.next_out = out.as_mut_ptr();
        self.strm.avail_out = out.len() as u32;
        let flush = if last { z::Z_FINISH } else { z::Z_SYNC_FLUSH };
        // SAFETY: the stream was initialised in `new`; next_in/avail_in and
        // next_out/avail_out describe `input` and `out`, live for the call.
        let code = unsafe { z::deflate(&mut *self.strm, flush) };
        let written = out.len() - self.strm.avail_out as usize;
        let done = self.strm.avail_in == 0
            && if last {
                code == z::Z_STREAM_END
            } else {
                code == z::Z_OK && self.strm.avail_out > 0
            };
        self.strm.next_in = std::ptr::null_mut();
        self.strm.next_out = std::ptr::null_mut();
        // SAFETY: as above; resets for the next block, keeping the allocation.
        unsafe { z::deflateReset(&mut *self.strm) };
        if !done {
            return Err(fail());
        }
        out.truncate(written);
        Ok(out)
    }
}

impl Drop for Deflate {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, ended exactly once here.
        unsafe { z::deflateEnd(&mut *self.strm) };
    }
}

/// What is compressed: slices in memory, or a byte source read a block at
/// a time (so a file larger than memory compresses in bounded memory).
enum Input<'a> {
    Parts(&'a [&'a [u8]]),
    Source(&'a dyn ReadAt, usize),
}

impl<'a> Input<'a> {
    fn len(&self) -> usize {
        match self {
            Input::Parts(parts) => parts.iter().map(|p| p.len()).sum(),
            Input::Source(_, len) => *len,
        }
    }

    /// Bytes `[a, b)` (copied only when they span two parts or come from a
    /// source).
    fn range(&self, a: usize, b: usize) -> Result<Cow<'a, [u8]>> {
        let parts = match self {
            Input::Parts(parts) => *parts,
            Input::Source(src, _) => {
                let bytes = src.read_vec(a as u64, b - a)?;
                if bytes.len() < b - a {
                    return Err(Error::TruncatedFile {
                        what: "data to compress (the file shrank)",
                        expected: b as u64,
                        got: (a + bytes.len()) as u64,
                    });
                }
                return Ok(Cow::Owned(bytes));
            }
        };
        let mut base = 0;
        for p in parts {
            if a >= base && b <= base + p.len() {
                return Ok(Cow::Borrowed(&p[a - base..b - base]));
            }
            base += p.len();
        }
        let mut out = Vec::with_capacity(b - a);
        let mut base = 0;
        for p in parts {
            let (s, e) = (a.max(base), b.min(base + p.len()));
            if s < e {
                out.extend_from_slice(&p[s - base..e - base]);
            }
            base += p.len();
        }
        Ok(Cow::Owned(out))
    }
}

/// Write the first `len` bytes of `src` to `out` as one gzip member, as
/// [`gzip_parallel`] does, holding only a few blocks of input at a time.
pub fn gzip_parallel_from(
    src: &dyn ReadAt,
    len: u64,
    level: u32,
    span: u64,
    out: &mut dyn Write,
) -> Result<SeekIndex> {
    let len = usize::try_from(len).map_err(|_| Error::InvalidData("input too large".into()))?;
    gzip_input(&Input::Source(src, len), level, span, out)
}

/// Write `parts` (concatenated) to `out` as one gzip member at `level`
/// (0 to 9), compressing on all cores; returns the seek index of what was
/// written, with checkpoints every `span` bytes or so (whole blocks).
pub fn gzip_parallel(
    parts: &[&[u8]],
    level: u32,
    span: u64,
    out: &mut dyn Write,
) -> Result<SeekIndex> {
    gzip_input(&Input::Parts(parts), level, span, out)
}

fn gzip_input(input: &Input<'_>, level: u32, span: u64, out: &mut dyn Write) -> Result<SeekIndex> {
    let total = input.len();
    let level = level.min(9) as i32;
    let blocks = total.div_ceil(BLOCK).max(1);
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    out.write_all(&HEADER)?;
    let mut index = SeekIndex::new(span, HEADER.len() as u64);
    let mut packer = Compressor::new(1)?;
    let mut crc = Hasher::new();
    let mut compressed = HEADER.len() as u64;
    let batch = 2 * parallel::threads();
    let mut next = 0;
    while next < blocks {
        let ids: Vec<usize> = (next..(next + batch).min(blocks)).collect();
        let results = std::sync::Mutex::new(Vec::with_capacity(ids.len()));
        parallel::for_each(
            ids,
            || Deflate::new(level),
            |d, i| {
                let (a, b) = (i * BLOCK, ((i + 1) * BLOCK).min(total));
                let dict = input.range(a.saturating_sub(WINDOW), a)?;
                let data = input.range(a, b)?;
                let bytes = d.block(&dict, &data, i + 1 == blocks)?;
                let block_crc = crc32fast::hash(&data);
                results.lock().unwrap_or_else(|p| p.into_inner()).push((
                    i,
                    bytes,
                    block_crc,
                    b - a,
                ));
                Ok(())
            },
        )?;
        let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
        results.sort_by_key(|r| r.0);
        for (i, bytes, block_crc, len) in results {
            let a = i * BLOCK;
            if a > 0 && a as u64 - index.covered() >= index.span {
                let window = input.range(a.saturating_sub(WINDOW), a)?;
                let point = Checkpoint::inside(
                    a as u64,
                    compressed * 8,
                    a as u64,
                    crc.clone().finalize(),
                    &window,
                    &mut packer,
                );
                index.points.push(point);
            }
            out.write_all(&bytes)?;
            compressed += bytes.len() as u64;
            crc.combine(&Hasher::new_with_initial_len(block_crc, len as u64));
        }
        next += batch;
    }
    out.write_all(&crc.finalize().to_le_bytes())?;
    out.write_all(&(total as u32).to_le_bytes())?;
    index
        .points
        .push(Checkpoint::member_start(total as u64, compressed + 8));
    index.complete = true;
    Ok(index)
}
