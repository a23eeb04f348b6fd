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
use super::parallel;
use super::pipeline::{Compressed, Pipeline, StopOnDrop};
use super::source::ReadAt;
use super::window_pack::Packer;
use crate::error::{Error, Result};

/// Input per block (one task, one checkpoint).
pub const BLOCK: usize = 1 << 20;

/// A zlib-rs raw deflate stream.
struct Deflate {
    strm: Box<z::z_stream>,
    /// Output space kept from block to block: a fresh megabyte per block
    /// cost page faults worth 7% of the compression.
    out: Vec<u8>,
}

// SAFETY: the state is owned memory with no thread affinity; every use goes
// through `&mut self`.
unsafe impl Send for Deflate {}

impl Deflate {
    /// zlib's `level` with its default strategy, or (`None`) run-length
    /// matches only.
    fn new(level: Option<u32>) -> Result<Deflate> {
        let (level, strategy) = match level {
            Some(n) => (n.min(9) as i32, z::Z_DEFAULT_STRATEGY),
            None => (6, z::Z_RLE),
        };
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
                strategy,
                z::zlibVersion(),
                std::mem::size_of::<z::z_stream>() as i32,
            )
        };
        match code {
            z::Z_OK => Ok(Deflate {
                strm,
                out: Vec::new(),
            }),
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
        let out = &mut self.out;
        if out.len() < bound + 16 {
            out.resize(bound + 16, 0);
        }
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
        Ok(out[..written].to_vec())
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
    level: Option<u32>,
    span: u64,
    out: &mut dyn Write,
) -> Result<SeekIndex> {
    let len = usize::try_from(len).map_err(|_| Error::InvalidData("input too large".into()))?;
    gzip_input(&Input::Source(src, len), level, span, out)
}

/// Write `parts` (concatenated) to `out` as one gzip member at `level`
/// (0 to 9, or `None` for run-length matches only: see
/// [`crate::WriteOptions::level`]), compressing on all cores; returns the seek index of what was
/// written, with checkpoints every `span` bytes or so (whole blocks).
pub fn gzip_parallel(
    parts: &[&[u8]],
    level: Option<u32>,
    span: u64,
    out: &mut dyn Write,
) -> Result<SeekIndex> {
    gzip_input(&Input::Parts(parts), level, span, out)
}

fn gzip_input(
    input: &Input<'_>,
    level: Option<u32>,
    span: u64,
    out: &mut dyn Write,
) -> Result<SeekIndex> {
    let total = input.len();
    let blocks = total.div_ceil(BLOCK).max(1);
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    out.write_all(&HEADER)?;
    let mut index = SeekIndex::new(span, HEADER.len() as u64);
    let mut packer = Packer::here()?;
    let mut crc = Hasher::new();
    let mut compressed = HEADER.len() as u64;
    let compress = |d: &mut Deflate, i: usize| -> Result<Compressed> {
        let (a, b) = (i * BLOCK, ((i + 1) * BLOCK).min(total));
        let dict = input.range(a.saturating_sub(WINDOW), a)?;
        let data = input.range(a, b)?;
        let bytes = d.block(&dict, &data, i + 1 == blocks)?;
        Ok(Compressed {
            bytes,
            crc: crc32fast::hash(&data),
            len: b - a,
        })
    };
    let mut emit = |i: usize, block: Compressed| -> Result<()> {
        let a = i * BLOCK;
        if a > 0 && a as u64 - index.covered() >= index.next_span() {
            let window = input.range(a.saturating_sub(WINDOW), a)?;
            let point = Checkpoint::inside_raw(
                a as u64,
                compressed * 8,
                a as u64,
                crc.clone().finalize(),
                &window,
            );
            index.points.push(point);
            let at = index.points.len() - 1;
            packer.submit(&mut index, at);
        }
        out.write_all(&block.bytes)?;
        compressed += block.bytes.len() as u64;
        crc.combine(&Hasher::new_with_initial_len(block.crc, block.len as u64));
        Ok(())
    };
    let threads = parallel::threads();
    if threads <= 1 {
        // No extra thread (as configured for DataLoader workers, say).
        let mut d = Deflate::new(level)?;
        for i in 0..blocks {
            emit(i, compress(&mut d, i)?)?;
        }
    } else {
        let pipeline = Pipeline::new(blocks, 4 * threads);
        std::thread::scope(|scope| -> Result<()> {
            // However this thread leaves (an error, a panic in `out`), the
            // workers stop instead of waiting for it for ever.
            let _stop = StopOnDrop(&pipeline);
            for _ in 0..threads {
                scope.spawn(|| pipeline.work(|| Deflate::new(level), compress));
            }
            // This thread writes the blocks in order as they are done, while
            // the workers compress the next ones.
            (0..blocks).try_for_each(|i| emit(i, pipeline.take(i)?))
        })?;
    }
    out.write_all(&crc.finalize().to_le_bytes())?;
    out.write_all(&(total as u32).to_le_bytes())?;
    index
        .points
        .push(Checkpoint::member_start(total as u64, compressed + 8));
    index.complete = true;
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut out).unwrap();
        out
    }

    #[test]
    fn every_level_and_the_default_round_trip_across_many_blocks() {
        let data: Vec<u8> = (0..5 * BLOCK + 1234)
            .map(|i| ((i / 300) % 251) as u8)
            .collect();
        for level in [None, Some(0), Some(1), Some(6)] {
            let mut out = Vec::new();
            let index =
                gzip_parallel(&[&data[..10], &data[10..]], level, 1 << 20, &mut out).unwrap();
            assert!(inflate(&out) == data, "{level:?}");
            assert!(index.complete && index.chunks() == 6, "{level:?}");
        }
    }

    /// A writer that panics on its second write (a user's `Write`, say).
    struct Panicky(usize);

    impl std::io::Write for Panicky {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            assert!(self.0 < 2, "the writer gives up");
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_panicking_writer_stops_the_workers_instead_of_hanging() {
        let data = vec![3u8; 40 * BLOCK];
        let result = std::panic::catch_unwind(|| {
            let _ = gzip_parallel(&[&data], None, 1 << 20, &mut Panicky(0));
        });
        assert!(result.is_err());
    }

    /// A source that says it is longer than it is (a file cut while read).
    struct Short(Vec<u8>);

    impl ReadAt for Short {
        fn size(&self) -> Result<u64> {
            Ok(self.0.len() as u64 + (3 << 20))
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
            self.0.as_slice().read_at(offset, buf)
        }
    }

    #[test]
    fn a_source_cut_short_stops_every_thread_with_its_own_error() {
        let src = Short(vec![7u8; 2 * BLOCK]);
        let mut out = Vec::new();
        let err = gzip_parallel_from(&src, 5 * BLOCK as u64, None, 1 << 20, &mut out).unwrap_err();
        assert!(matches!(err, Error::TruncatedFile { .. }), "{err:?}");
    }
}
