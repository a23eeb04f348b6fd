//! Inflating the stretch of a gzip stream between two checkpoints with
//! libdeflate, which has no way to start mid-stream: the compressed bytes
//! are spliced behind a hand-made fixed-Huffman block that outputs the
//! checkpoint's window as literals and ends exactly where the chunk's first
//! block begins; a final empty block is spliced in where the chunk ends.
//! libdeflate then decodes the chunk at full speed, back-references into
//! the window included. A whole chunk compressed to 40% of its size or more
//! goes to tioxide's own decoder instead (faster on such streams, see
//! `Engine::for_stream`), which takes the same spliced stream.

use crc32fast::Hasher;

use super::bits::{fixed_block_header, fixed_end_of_block, fixed_literal, push_literal, BitWriter};
use super::engine::own_is_faster;
use super::index::{Checkpoint, WINDOW};
use super::libdeflate::{Decoded, Decompressor};
use super::member::{check_trailer, scan_header, HeaderScan, TRAILER_LEN};
use super::raw_inflate::{RawInflater, RawOutcome};
use super::source::ReadAt;
use crate::error::{Error, Result};

/// Literal used to pad the splice block (a 9-bit code: each adds one bit mod 8).
const PAD_LITERAL: u8 = 144;

/// Number of pad literals that make a block holding `window` end `align`
/// bits into a byte.
pub fn pad_count(window: &[u8], align: u8) -> u8 {
    // 3 header bits + 7 end-of-block bits + the literals; a pad adds 9 bits.
    let bits: u64 = 10
        + window
            .iter()
            .map(|&b| u64::from(fixed_literal(b).1))
            .sum::<u64>();
    ((u64::from(align) + 8 * 8 - bits % 8) % 8) as u8
}

/// Output bytes the splice block of a checkpoint produces before the chunk.
pub fn prefix_len(point: &Checkpoint) -> usize {
    if point.member_start {
        0
    } else {
        usize::from(point.pad) + point.window_len()
    }
}

/// A chunk's compressed bytes, spliced for libdeflate.
pub struct ChunkInput {
    bytes: Vec<u8>,
    /// Index in `bytes` of the compressed file's byte `start.bit / 8`.
    origin: usize,
    /// File offset of that byte.
    file_pos: u64,
}

impl ChunkInput {
    /// Read and splice the compressed bytes of the chunk from `a` to `b`.
    pub fn prepare(
        src: &dyn ReadAt,
        a: &Checkpoint,
        b: &Checkpoint,
        d: &mut Decompressor,
    ) -> Result<ChunkInput> {
        let first = a.bit / 8;
        let end = b.bit.div_ceil(8);
        let len = usize::try_from(end.saturating_sub(first))
            .map_err(|_| Error::gzip(first, "seek index chunk too large"))?;
        let mut bytes;
        let origin;
        if a.member_start {
            bytes = Vec::with_capacity(len + 4);
            bytes.resize(len, 0);
            origin = 0;
        } else {
            let window = a.window(d)?;
            let align = (a.bit % 8) as u8;
            let mut w = BitWriter::with_capacity(window.len() * 9 / 8 + len + 16);
            fixed_block_header(&mut w, false);
            for _ in 0..a.pad {
                push_literal(&mut w, PAD_LITERAL);
            }
            for &byte in &window {
                push_literal(&mut w, byte);
            }
            fixed_end_of_block(&mut w);
            if w.bit_len() % 8 != u64::from(align) {
                return Err(Error::gzip(first, "damaged seek index (splice alignment)"));
            }
            bytes = w.into_bytes();
            origin = bytes.len() - usize::from(align != 0);
            bytes.resize(origin + len, 0);
        }
        let merged = if origin < bytes.len() {
            bytes[origin]
        } else {
            0
        };
        let got = src.read_at(first, &mut bytes[origin..])?;
        if got < len {
            return Err(Error::TruncatedFile {
                what: "gzip stream (shorter than its seek index says)",
                expected: end,
                got: first + got as u64,
            });
        }
        let align = (a.bit % 8) as u8;
        if !a.member_start && align != 0 {
            // The first byte's low bits belong to the block before the checkpoint.
            bytes[origin] = merged | (bytes[origin] & (0xff << align));
        }
        if !b.member_start {
            // Cut the stream where the chunk ends and close it with an empty final block.
            let tail = (b.bit % 8) as u32;
            let mut w = BitWriter::with_capacity(4);
            if tail != 0 {
                let last = bytes.pop().unwrap_or(0);
                w.push(u32::from(last), tail);
            }
            fixed_block_header(&mut w, true);
            fixed_end_of_block(&mut w);
            bytes.extend_from_slice(&w.into_bytes());
        }
        Ok(ChunkInput {
            bytes,
            origin,
            file_pos: first,
        })
    }

    fn offset_of(&self, pos: usize) -> u64 {
        self.file_pos + pos.saturating_sub(self.origin) as u64
    }

    /// Inflate the chunk from `a` to `b` into `out`, which has room for the
    /// splice block's output (`prefix_len(a)` bytes, overwritten) followed by
    /// the chunk. Every member that ends inside the chunk has its CRC32 and
    /// ISIZE checked, and the chunk's output is checked against the CRC32
    /// the index recorded at `b`.
    pub fn decode(
        &self,
        d: &mut Decompressor,
        a: &Checkpoint,
        b: &Checkpoint,
        out: &mut [u8],
    ) -> Result<()> {
        let mismatch = |pos: usize, why: &str| {
            Error::gzip(
                self.offset_of(pos),
                format!("{why} (the file changed or its seek index is wrong)"),
            )
        };
        if out.len() as u64 != prefix_len(a) as u64 + (b.out - a.out) {
            return Err(mismatch(0, "chunk size does not match"));
        }
        let mut crc = Hasher::new_with_initial_len(a.crc, a.member_out);
        let mut member_out = a.member_out;
        let (mut pos, mut written) = (0usize, 0usize);
        let mut skip = prefix_len(a);
        // Judged on the chunk's own bytes, the splice block left out.
        let compressed = self.bytes.len().saturating_sub(self.origin);
        let mut own = own_is_faster(compressed, out.len().saturating_sub(skip))
            .then(|| Box::new(RawInflater::new()));
        loop {
            let input = &self.bytes[pos..];
            let decoded = match own.as_deref_mut() {
                Some(r) => match r.inflate(input, &mut out[written..]) {
                    RawOutcome::Done { used, produced } => Ok((used, produced)),
                    RawOutcome::Overflow | RawOutcome::NoRoom => Err(None),
                    RawOutcome::Bad(why) => Err(Some(why)),
                },
                None => match d.deflate(input, &mut out[written..]) {
                    Decoded::Done { used, produced } => Ok((used, produced)),
                    Decoded::Overflow => Err(None),
                    Decoded::Bad => Err(Some("invalid deflate data")),
                },
            };
            let (used, produced) = match decoded {
                Ok(done) => done,
                Err(None) => return Err(mismatch(pos, "chunk longer than indexed")),
                Err(Some(why)) => return Err(Error::gzip(self.offset_of(pos), why)),
            };
            if produced < skip {
                return Err(mismatch(pos, "chunk shorter than indexed"));
            }
            crc.update(&out[written + skip..written + produced]);
            member_out += (produced - skip) as u64;
            skip = 0;
            written += produced;
            pos += used;
            let done = written == out.len();
            if done && !b.member_start {
                if crc.finalize() != b.crc || member_out != b.member_out {
                    return Err(mismatch(pos, "CRC32 of the chunk does not match"));
                }
                return Ok(());
            }
            let trailer: &[u8; TRAILER_LEN] = self
                .bytes
                .get(pos..pos + TRAILER_LEN)
                .and_then(|t| t.try_into().ok())
                .ok_or_else(|| mismatch(pos, "member trailer missing"))?;
            let got_crc = std::mem::replace(&mut crc, Hasher::new()).finalize();
            check_trailer(trailer, got_crc, member_out)
                .map_err(|why| Error::gzip(self.offset_of(pos), why))?;
            pos += TRAILER_LEN;
            member_out = 0;
            // Members that follow: empty ones are decoded (to check them)
            // even once the chunk is full; the chunk may end with the header
            // of the member its end checkpoint starts.
            if pos == self.bytes.len() {
                return if done {
                    Ok(())
                } else {
                    Err(mismatch(pos, "chunk ends early"))
                };
            }
            match scan_header(&self.bytes[pos..]) {
                HeaderScan::Complete(n) => pos += n,
                _ => return Err(mismatch(pos, "expected a gzip member header")),
            }
            if pos == self.bytes.len() {
                return if done {
                    Ok(())
                } else {
                    Err(mismatch(pos, "chunk ends early"))
                };
            }
        }
    }
}

/// Output past the last byte needed that makes a decode cut short by a full
/// buffer valid up to that byte: libdeflate refuses (and leaves unwritten)
/// at most one stored block (65535 bytes) or one match (258 bytes) that does
/// not fit.
pub const PARTIAL_SLACK: usize = 65535 + 258;

/// Bytes of a chunk, inflated: its bytes `first..valid` are `buf[head..]`.
pub struct PartialChunk {
    /// Anything (such as the splice block's output), then the chunk's bytes.
    pub buf: Vec<u8>,
    /// Where in `buf` the chunk's byte `first` is.
    pub head: usize,
    /// The first chunk byte held (0 straight from [`decode_chunk`]).
    pub first: usize,
    /// Chunk bytes that are right: `buf[head..head + valid - first]` holds
    /// the chunk's bytes `first..valid`.
    pub valid: usize,
    /// The block end the decode stopped at, when it stopped early at one:
    /// [`continue_chunk`] can go on from there.
    pub stop: Option<Checkpoint>,
}

impl PartialChunk {
    /// End in `buf` of the bytes held, if the fields agree.
    fn filled(&self) -> Option<usize> {
        let held = self.valid.checked_sub(self.first)?;
        self.head.checked_add(held).filter(|&f| f <= self.buf.len())
    }

    /// Bytes of output held just before `filled` (the chunk's, and straight
    /// from [`decode_chunk`], the splice block's output of `a`'s window).
    fn history_held(&self, a: &Checkpoint, filled: usize) -> usize {
        let from = if self.first == 0 && self.head == prefix_len(a) {
            usize::from(a.pad).min(self.head)
        } else {
            self.head
        };
        filled - from
    }

    /// Whether [`continue_chunk`] can go on from this part of the chunk
    /// starting at `a`: it stopped at a block end and holds the history before it.
    pub fn continuable(&self, a: &Checkpoint) -> bool {
        match (&self.stop, self.filled()) {
            (Some(stop), Some(filled)) => {
                stop.out == a.out + self.valid as u64
                    && stop.member_out.min(WINDOW as u64) as usize <= self.history_held(a, filled)
            }
            _ => false,
        }
    }

    /// A copy of the bytes held from chunk byte `from` on (at least
    /// `first`), in a buffer of their size.
    pub fn compact(&self, from: usize) -> PartialChunk {
        let from = from.max(self.first).min(self.valid.max(self.first));
        let bytes = self
            .filled()
            .and_then(|hi| self.buf.get(self.head + (from - self.first)..hi));
        PartialChunk {
            buf: bytes.map(crate::pool::chunk_copy).unwrap_or_default(),
            head: 0,
            first: from,
            valid: self.valid,
            stop: self.stop.clone(),
        }
    }

    /// The same bytes in `buf` (reused), for continuing.
    pub fn copied_into(&self, mut buf: Vec<u8>) -> PartialChunk {
        let hi = self.filled().unwrap_or(self.head);
        buf.clear();
        buf.extend_from_slice(self.buf.get(self.head..hi).unwrap_or_default());
        PartialChunk {
            buf,
            head: 0,
            first: self.first,
            valid: self.valid,
            stop: self.stop.clone(),
        }
    }

    /// The chunk's bytes `from..to`, if held.
    pub fn range(&self, from: usize, to: usize) -> Option<&[u8]> {
        if from < self.first || to < from || to > self.valid {
            return None;
        }
        let lo = self.head.checked_add(from - self.first)?;
        self.buf.get(lo..lo.checked_add(to - from)?)
    }
}

/// The stop at or after chunk byte `need` of the chunk from `a` to `b`, if
/// it ends before the chunk does.
fn stop_for(a: &Checkpoint, b: &Checkpoint, need: usize) -> Option<Checkpoint> {
    a.stop_at_or_after(a.out.saturating_add(need as u64))
        .filter(|s| s.out < b.out)
}

/// Inflate the chunk from `a` to `b` into a new buffer whose bytes from
/// `prefix_len(a)` on are the chunk's. With `need`, only the chunk's first
/// `need` bytes are guaranteed (the rest of the buffer is not decoded), when
/// that saves work.
pub fn decode_chunk(
    src: &dyn ReadAt,
    a: &Checkpoint,
    b: &Checkpoint,
    need: Option<usize>,
) -> Result<PartialChunk> {
    decode_chunk_in(src, a, b, need, Vec::new())
}

/// [`decode_chunk`] into `buf` (its contents dropped, its memory reused:
/// fresh memory costs a page fault per page, about a third of the time a
/// chunk takes to inflate).
pub fn decode_chunk_in(
    src: &dyn ReadAt,
    a: &Checkpoint,
    b: &Checkpoint,
    need: Option<usize>,
    mut buf: Vec<u8>,
) -> Result<PartialChunk> {
    let mut d = Decompressor::new()?;
    let prefix = prefix_len(a);
    // A block end at or after the last byte needed: decode exactly that
    // far, reading only the compressed bytes before it, CRC32 checked.
    if let Some(stop) = need.and_then(|n| stop_for(a, b, n)) {
        let valid = usize::try_from(stop.out - a.out)
            .map_err(|_| Error::gzip(a.bit / 8, "seek index chunk too large"))?;
        sized(&mut buf, prefix + valid);
        ChunkInput::prepare(src, a, &stop, &mut d)?.decode(&mut d, a, &stop, &mut buf)?;
        return Ok(PartialChunk {
            buf,
            head: prefix,
            first: 0,
            valid,
            stop: Some(stop),
        });
    }
    let input = ChunkInput::prepare(src, a, b, &mut d)?;
    let len = usize::try_from(b.out - a.out)
        .map_err(|_| Error::gzip(a.bit / 8, "seek index chunk too large"))?;
    // Cutting short is only sound inside one member (no trailer to reach).
    let one_member = !b.member_start && b.member_out == a.member_out + len as u64;
    if let Some(need) = need.filter(|&n| one_member && n + 2 * PARTIAL_SLACK < len) {
        sized(&mut buf, prefix + need + PARTIAL_SLACK);
        match d.deflate(&input.bytes, &mut buf) {
            Decoded::Overflow => {
                return Ok(PartialChunk {
                    buf,
                    head: prefix,
                    first: 0,
                    valid: need,
                    stop: None,
                })
            }
            Decoded::Bad => return Err(Error::gzip(a.bit / 8, "invalid deflate data")),
            Decoded::Done { .. } => {
                return Err(Error::gzip(
                    a.bit / 8,
                    "chunk shorter than indexed (the file changed or its seek index is wrong)",
                ))
            }
        }
    }
    sized(&mut buf, prefix + len);
    input.decode(&mut d, a, b, &mut buf)?;
    Ok(PartialChunk {
        buf,
        head: prefix,
        first: 0,
        valid: len,
        stop: None,
    })
}

/// `buf` emptied and zero-filled to `len` bytes.
fn sized(buf: &mut Vec<u8>, len: usize) {
    buf.clear();
    buf.resize(len, 0);
}

/// Inflate more of a chunk that [`decode_chunk`] stopped at a block end:
/// `part` grows in place to hold at least the chunk's first `need` bytes
/// (all of them if no block end comes after that before the chunk ends).
/// The new bytes start from the history `part` already holds, so the
/// chunk's first bytes are not inflated again.
pub fn continue_chunk(
    src: &dyn ReadAt,
    a: &Checkpoint,
    b: &Checkpoint,
    part: &mut PartialChunk,
    need: usize,
) -> Result<()> {
    // Checked before taking the stop: a part refused stays as it was.
    let Some(from) = part.stop.clone() else {
        return Err(Error::gzip(a.bit / 8, "chunk cannot be continued"));
    };
    let end = stop_for(a, b, need);
    let end_out = end.as_ref().map_or(b.out, |s| s.out);
    if from.out != a.out + part.valid as u64 || from.out >= end_out {
        return Err(Error::gzip(
            a.bit / 8,
            "chunk cannot be continued (not a part of this chunk, or already that long)",
        ));
    }
    let mut d = Decompressor::new()?;
    let Some(filled) = part.filled() else {
        return Err(Error::gzip(
            a.bit / 8,
            "chunk cannot be continued (bad part)",
        ));
    };
    let history = from.member_out.min(WINDOW as u64) as usize;
    if history > part.history_held(a, filled) {
        return Err(Error::gzip(from.bit / 8, "chunk too short to continue"));
    }
    let start = Checkpoint::inside_raw(
        from.out,
        from.bit,
        from.member_out,
        from.crc,
        &part.buf[filled - history..filled],
    );
    let more = usize::try_from(end_out - from.out)
        .map_err(|_| Error::gzip(a.bit / 8, "seek index chunk too large"))?;
    let end_point = end.as_ref().unwrap_or(b);
    let input = ChunkInput::prepare(src, &start, end_point, &mut d)?;
    let prefix = prefix_len(&start);
    // From here on a failure leaves the part unfit to continue.
    part.stop = None;
    part.buf.truncate(filled);
    part.buf.reserve_exact(more);
    if let Some(base) = filled.checked_sub(prefix) {
        // The splice block's output re-creates the history where it already
        // is; only its pad literals land on bytes that must be put back.
        let pad = usize::from(start.pad);
        let saved: Vec<u8> = part.buf[base..base + pad].to_vec();
        part.buf.resize(filled + more, 0);
        input.decode(&mut d, &start, end_point, &mut part.buf[base..])?;
        part.buf[base..base + pad].copy_from_slice(&saved);
    } else {
        // Less than the pad literals before the history (a chunk starting
        // a member, stopped early): decode aside.
        let mut aside = vec![0u8; prefix + more];
        input.decode(&mut d, &start, end_point, &mut aside)?;
        part.buf.extend_from_slice(&aside[prefix..]);
    }
    part.valid += more;
    part.stop = end;
    Ok(())
}
