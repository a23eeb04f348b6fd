//! A zran-style seek index into a gzip stream: checkpoints about every
//! `span` bytes of output, each with everything needed to start inflating
//! there (bit position, the 32 KiB of output before it, the running CRC32).

use std::sync::Arc;

use super::libdeflate::{Decoded, Decompressor};
use crate::error::{Error, Result};

/// Deflate's history: back-references reach at most this far.
pub const WINDOW: usize = 32 << 10;
/// Default output between checkpoints: a 32^3 patch of a 512^3 float32
/// volume inflates on average half a chunk per slice it crosses, so halving
/// the span from 1 MiB made random patches a quarter faster, for an index
/// of 1.8-3.2% of the output instead of 1.2-1.7% on the benchmark's files.
pub const DEFAULT_SPAN: u64 = 512 << 10;
/// Output a chunk spans per byte its starting checkpoint holds, at least:
/// whatever the span, an index holds at most 4% of the output (a window
/// that compresses badly, as noise does, moves the next checkpoint further).
pub const OUTPUT_PER_INDEX_BYTE: u64 = 25;
/// Smallest span accepted (the parallel decoder needs chunks well over a window).
pub const MIN_SPAN: u64 = 64 << 10;

/// A block boundary inside a chunk where a decode of the chunk's first
/// bytes can end exactly (no window: decoding cannot start there). Only
/// boundaries in the member the chunk starts in are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop {
    /// Offset in the decompressed stream.
    pub out: u64,
    /// Bit offset in the compressed file where the next deflate block starts.
    pub bit: u64,
    /// CRC32 of the member's output before this point.
    pub crc: u32,
}

/// A place inflating can start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Offset in the decompressed stream.
    pub out: u64,
    /// Bit offset in the compressed file where the next deflate block starts.
    pub bit: u64,
    /// Output of the current gzip member before this point.
    pub member_out: u64,
    /// CRC32 of that output.
    pub crc: u32,
    /// The point is the start of a member's deflate data (no history needed).
    pub member_start: bool,
    /// Pad literals the splice block needs (see [`decode_chunk`](super::decode_chunk)).
    pub pad: u8,
    window: Arc<[u8]>,
    window_len: u32,
    /// Block ends between this point and the next checkpoint, in order.
    stops: Arc<[Stop]>,
}

impl Checkpoint {
    /// The start of a member's deflate data at byte `byte`.
    pub fn member_start(out: u64, byte: u64) -> Checkpoint {
        Checkpoint {
            out,
            bit: byte * 8,
            member_out: 0,
            crc: 0,
            member_start: true,
            pad: 0,
            window: Arc::from(Vec::new()),
            window_len: 0,
            stops: Arc::from(Vec::new()),
        }
    }

    /// A block boundary inside a member, `window` being the output before
    /// it, kept as given: a short-lived start (continuing a partly inflated
    /// chunk), or an index's checkpoint until its window is deflated.
    pub fn inside_raw(out: u64, bit: u64, member_out: u64, crc: u32, window: &[u8]) -> Checkpoint {
        Checkpoint {
            out,
            bit,
            member_out,
            crc,
            member_start: false,
            pad: super::chunk::pad_count(window, (bit % 8) as u8),
            window: Arc::from(window),
            window_len: window.len() as u32,
            stops: Arc::from(Vec::new()),
        }
    }

    /// Rebuild from stored parts (a sidecar); `packed` as [`Checkpoint::packed_window`] gives it.
    #[allow(clippy::too_many_arguments)]
    pub fn from_parts(
        out: u64,
        bit: u64,
        member_out: u64,
        crc: u32,
        member_start: bool,
        pad: u8,
        window_len: u32,
        packed: Vec<u8>,
    ) -> Checkpoint {
        Checkpoint {
            out,
            bit,
            member_out,
            crc,
            member_start,
            pad,
            window: Arc::from(packed),
            window_len,
            stops: Arc::from(Vec::new()),
        }
    }

    /// Length of the window (the history before this point, at most 32 KiB).
    pub fn window_len(&self) -> usize {
        self.window_len as usize
    }

    /// The window as kept in memory (deflated unless that did not shrink it).
    pub fn packed_window(&self) -> &[u8] {
        &self.window
    }

    /// The window as stored (shared, not copied).
    pub(crate) fn stored_window(&self) -> Arc<[u8]> {
        self.window.clone()
    }

    /// Keep the window deflated as `packed` (the deflate of its raw bytes),
    /// if that is smaller than what is held now.
    pub(crate) fn pack_window(&mut self, packed: Vec<u8>) {
        if packed.len() < self.window.len() && self.window.len() == self.window_len() {
            self.window = Arc::from(packed);
        }
    }

    /// The window's bytes.
    pub fn window(&self, d: &mut Decompressor) -> Result<Vec<u8>> {
        let n = self.window_len();
        if self.window.len() == n {
            return Ok(self.window.to_vec());
        }
        let mut out = vec![0u8; n];
        match d.deflate(&self.window, &mut out) {
            Decoded::Done { produced, .. } if produced == n => Ok(out),
            _ => Err(Error::gzip(self.bit / 8, "damaged seek index window")),
        }
    }

    /// The block ends of the chunk this point starts.
    pub fn stops(&self) -> &[Stop] {
        &self.stops
    }

    /// Set the block ends of the chunk this point starts (in increasing
    /// order, inside the chunk and in this point's member).
    pub fn set_stops(&mut self, stops: Vec<Stop>) {
        self.stops = Arc::from(stops);
    }

    /// The first stop at or after output offset `at`, as an end point for
    /// decoding this point's chunk.
    pub fn stop_at_or_after(&self, at: u64) -> Option<Checkpoint> {
        let s = self.stops.get(self.stops.partition_point(|s| s.out < at))?;
        Some(Checkpoint {
            out: s.out,
            bit: s.bit,
            member_out: self.member_out + (s.out - self.out),
            crc: s.crc,
            member_start: false,
            pad: 0,
            window: Arc::from(Vec::new()),
            window_len: 0,
            stops: Arc::from(Vec::new()),
        })
    }

    /// Bytes of memory this checkpoint holds.
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Checkpoint>()
            + self.window.len()
            + std::mem::size_of_val::<[Stop]>(&self.stops)
    }
}

/// Checkpoints of one gzip stream, in increasing order.
///
/// An index is built lazily: it covers the stream up to its last checkpoint
/// and grows when a read needs more. Once the whole stream has been seen it
/// is `complete` and its last checkpoint marks the end of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeekIndex {
    /// Requested output between checkpoints.
    pub span: u64,
    /// The checkpoints; the first is always the start of the stream.
    pub points: Vec<Checkpoint>,
    /// True once the whole stream has been indexed; the last point is then its end.
    pub complete: bool,
}

impl SeekIndex {
    /// An index holding only the start of the stream, whose first member's
    /// deflate data begins at byte `first_data`.
    pub fn new(span: u64, first_data: u64) -> SeekIndex {
        SeekIndex {
            span: span.max(MIN_SPAN),
            points: vec![Checkpoint::member_start(0, first_data)],
            complete: false,
        }
    }

    /// Output the chunk after the last checkpoint spans at least: the span,
    /// and [`OUTPUT_PER_INDEX_BYTE`] per byte that checkpoint holds.
    pub fn next_span(&self) -> u64 {
        let held = self.points.last().map_or(0, |p| p.memory() as u64);
        self.span.max(held.saturating_mul(OUTPUT_PER_INDEX_BYTE))
    }

    /// Output covered: every byte before this lies between two checkpoints.
    pub fn covered(&self) -> u64 {
        self.points.last().map_or(0, |p| p.out)
    }

    /// The decompressed size, once complete.
    pub fn total_out(&self) -> Option<u64> {
        self.complete.then(|| self.covered())
    }

    /// Number of chunks (stretches between consecutive checkpoints).
    pub fn chunks(&self) -> usize {
        self.points.len().saturating_sub(1)
    }

    /// The chunk holding output offset `at` (which must be below `covered()`).
    pub fn chunk_at(&self, at: u64) -> usize {
        self.points
            .partition_point(|p| p.out <= at)
            .saturating_sub(1)
    }

    /// Output range of chunk `i`.
    pub fn chunk_range(&self, i: usize) -> (u64, u64) {
        (self.points[i].out, self.points[i + 1].out)
    }

    /// Bytes of memory the index holds.
    pub fn memory(&self) -> usize {
        std::mem::size_of::<SeekIndex>() + self.points.iter().map(Checkpoint::memory).sum::<usize>()
    }
}
