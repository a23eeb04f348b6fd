//! Building a seek index as a side effect of inflating: one pass of
//! zlib-rs, stopping at block boundaries to drop a checkpoint every `span`
//! bytes of output, verifying each member's CRC32 and ISIZE on the way.

use crc32fast::Hasher;

use super::index::{Checkpoint, SeekIndex, Stop, WINDOW};
use super::libdeflate::Decompressor;
use super::member::{check_trailer, scan_header, HeaderScan, TRAILER_LEN};
use super::source::ReadAt;
use super::window_pack::Packer;
use super::zstream::RawInflate;
use crate::error::{Error, Result};

/// Compressed bytes read per `pread`.
const INPUT_BUF: usize = 256 << 10;
/// Longest gzip member header accepted (names and comments included).
const MAX_HEADER: usize = 1 << 20;
/// Output of an unwanted chunk held before it is dropped (but its window).
const TRIM_AT: usize = 8 << 20;
/// Output still to index from which checkpoint windows are deflated on a
/// helper thread (starting one costs tens of microseconds; 32 MiB at the
/// default span hold some 64 windows, 9 ms of deflating on this thread).
const HELPER_FROM: u64 = 32 << 20;

/// Compressed input read ahead from a source.
struct Input<'a> {
    src: &'a dyn ReadAt,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Compressed offset of `buf[start]`.
    pos: u64,
    eof: bool,
}

impl<'a> Input<'a> {
    fn at(src: &'a dyn ReadAt, pos: u64) -> Input<'a> {
        Input {
            src,
            buf: vec![0; INPUT_BUF],
            start: 0,
            end: 0,
            pos,
            eof: false,
        }
    }

    fn avail(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }

    /// At least `n` bytes buffered unless the source ends first.
    fn ensure(&mut self, n: usize) -> Result<&[u8]> {
        while self.end - self.start < n && !self.eof {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buf.len() < n {
                self.buf.resize(n, 0);
            }
            let at = self.pos + self.end as u64;
            let got = self.src.read_at(at, &mut self.buf[self.end..])?;
            self.end += got;
            self.eof = got == 0;
        }
        Ok(self.avail())
    }
}

/// Decoded output: the history before the current chunk, then the chunk
/// (the buffer's length is what is decoded; inflate appends to it).
struct Output {
    buf: Vec<u8>,
    /// Where the current chunk's output starts in `buf`.
    chunk: usize,
    /// Where the current member's output starts in `buf` (0 if earlier).
    member: usize,
    /// Block ends seen in the current chunk.
    stops: Vec<Stop>,
    /// No member has ended since the current chunk began (its block ends
    /// are then stops of the chunk).
    one_member: bool,
}

impl Output {
    /// Output with `history` before the first chunk, in a buffer with room
    /// for about `room` bytes more.
    fn new(history: &[u8], room: usize) -> Output {
        // Any chunk buffer given back is worth taking: chunks are about as
        // long as the last ones of the file, which may exceed the span.
        let mut buf = crate::pool::chunk_buffer(history.len() + room, usize::MAX);
        buf.extend_from_slice(history);
        Output {
            chunk: buf.len(),
            buf,
            member: 0,
            stops: Vec::new(),
            one_member: true,
        }
    }

    fn window(&self) -> &[u8] {
        &self.buf[self.history_start()..]
    }

    /// Room to inflate into, the buffer growing when nearly full.
    fn make_room(&mut self) {
        if self.buf.capacity() - self.buf.len() < (16 << 10) {
            self.buf.reserve(self.buf.capacity().max(256 << 10));
        }
    }

    /// Where the window starts: the last [`WINDOW`] bytes, but nothing of a
    /// member before the current one (the history a new chunk keeps).
    fn history_start(&self) -> usize {
        self.member.max(self.buf.len().saturating_sub(WINDOW))
    }

    /// Hand the current chunk over in the buffer that holds it, after the
    /// history before it (`(buf, head)`: its bytes are `buf[head..]`), and
    /// go on in another buffer that starts with the window as history. A
    /// copy of the chunk instead was a third of a first 32³ patch at the
    /// start of a 512³ `.nii.gz` (33 MiB of chunks copied for 64 KiB read
    /// from each 1 MiB of it).
    fn hand_over(&mut self) -> (Vec<u8>, usize) {
        let keep = self.history_start();
        let fill = self.buf.len();
        let mut next = crate::pool::chunk_buffer(fill, 2 * fill);
        next.extend_from_slice(&self.buf[keep..]);
        let chunk = std::mem::replace(&mut self.buf, next);
        let head = std::mem::replace(&mut self.chunk, self.buf.len());
        self.member = self.member.saturating_sub(keep);
        (fitted(chunk), head)
    }

    /// The current chunk (as [`Self::hand_over`]), at the end of the stream.
    fn hand_over_last(&mut self) -> (Vec<u8>, usize) {
        (fitted(std::mem::take(&mut self.buf)), self.chunk)
    }

    /// Start a new chunk, keeping only the window as history.
    fn next_chunk(&mut self) {
        let keep = self.history_start();
        self.buf.drain(..keep);
        self.member = self.member.saturating_sub(keep);
        self.chunk = self.buf.len();
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Its memory serves the next index build's first chunk.
        crate::pool::recycle_chunk(std::mem::take(&mut self.buf));
    }
}

/// `buf`, its spare capacity given back when it is more than its length
/// (a buffer that doubled as it grew: the chunk cache counts capacity).
fn fitted(mut buf: Vec<u8>) -> Vec<u8> {
    if buf.capacity() > 2 * buf.len() {
        buf.shrink_to_fit();
    }
    buf
}

/// A chunk decoded while the index grew.
#[derive(Debug)]
pub struct DecodedChunk {
    /// Its number (that of the checkpoint it starts at).
    pub number: usize,
    /// The output before it (up to a window's worth), then its bytes.
    pub buf: Vec<u8>,
    /// Where in `buf` its bytes start.
    pub head: usize,
}

/// Grow `index` until it covers output offset `target` or the stream ends.
///
/// Chunks whose output range `keep(start, end)` accepts are returned, so the
/// read that triggered the growth need not inflate them again.
pub fn extend(
    src: &dyn ReadAt,
    index: &mut SeekIndex,
    target: u64,
    keep: &dyn Fn(u64, u64) -> bool,
) -> Result<Vec<DecodedChunk>> {
    if index.complete || index.covered() >= target {
        return Ok(Vec::new());
    }
    if target.saturating_sub(index.covered()) < HELPER_FROM || super::parallel::threads() < 2 {
        return grow(src, index, target, keep, &mut Packer::here()?);
    }
    grow_helped(src, index, target, keep)
}

/// [`grow`] with windows deflated on a helper thread.
fn grow_helped(
    src: &dyn ReadAt,
    index: &mut SeekIndex,
    target: u64,
    keep: &dyn Fn(u64, u64) -> bool,
) -> Result<Vec<DecodedChunk>> {
    std::thread::scope(|scope| {
        let mut packer = Packer::helped(scope)?;
        let grown = grow(src, index, target, keep, &mut packer);
        packer.settle(index);
        grown // dropping the packer ends the helper
    })
}

/// [`extend`]'s inflate loop, checkpoint windows deflated by `packer`.
fn grow(
    src: &dyn ReadAt,
    index: &mut SeekIndex,
    target: u64,
    keep: &dyn Fn(u64, u64) -> bool,
    packer: &mut Packer,
) -> Result<Vec<DecodedChunk>> {
    let mut kept = Vec::new();
    let last = index
        .points
        .last()
        .cloned()
        .ok_or_else(|| Error::gzip(0, "empty seek index"))?;
    let mut inflate = RawInflate::new()?;
    let mut input = Input::at(src, last.bit / 8);
    let room = usize::try_from(index.next_span()).unwrap_or(usize::MAX) + (64 << 10);
    let mut out = if last.member_start {
        Output::new(&[], room)
    } else {
        let window = last.window(&mut Decompressor::new()?)?;
        let skip = (last.bit % 8) as u8;
        if skip != 0 {
            let byte = *input
                .ensure(1)?
                .first()
                .ok_or_else(|| truncated(target, last.out))?;
            inflate.prime(8 - skip, byte >> skip)?;
            input.consume(1);
        }
        inflate.set_dictionary(&window)?;
        Output::new(&window, room)
    };
    let mut total = last.out;
    let mut member_out = last.member_out;
    let mut crc = Hasher::new_with_initial_len(last.crc, last.member_out);
    let mut idle = 0;
    loop {
        if input.avail().len() < (4 << 10) {
            input.ensure(INPUT_BUF / 2)?;
        }
        let at = input.pos;
        if out.buf.len() - out.chunk > TRIM_AT && !keep(index.covered(), u64::MAX) {
            // A chunk nobody wants, growing long (few, huge deflate blocks):
            // keep only the window instead of the whole chunk.
            out.next_chunk();
        }
        out.make_room();
        let before = out.buf.len();
        let step = inflate.step(&input.buf[input.start..input.end], &mut out.buf, at)?;
        crc.update(&out.buf[before..]);
        input.consume(step.used);
        total += step.produced as u64;
        member_out += step.produced as u64;
        let since = total - index.covered();
        if step.stream_end {
            let trailer: [u8; TRAILER_LEN] = input
                .ensure(TRAILER_LEN)?
                .get(..TRAILER_LEN)
                .and_then(|t| t.try_into().ok())
                .ok_or_else(|| truncated(target, total))?;
            let got_crc = std::mem::replace(&mut crc, Hasher::new()).finalize();
            check_trailer(&trailer, got_crc, member_out)
                .map_err(|why| Error::gzip(input.pos, why))?;
            input.consume(TRAILER_LEN);
            member_out = 0;
            out.member = out.buf.len();
            out.one_member = false;
            match next_member(&mut input)? {
                None => {
                    if index.points.len() > 1 && index.covered() == total {
                        // Only empty members followed the last checkpoint:
                        // the chunk before it runs to the end instead.
                        index.points.pop();
                    } else {
                        if keep(index.covered(), total) {
                            let (buf, head) = out.hand_over_last();
                            let number = index.points.len() - 1;
                            kept.push(DecodedChunk { number, buf, head });
                        }
                        close_stops(index, &mut out, total);
                    }
                    index
                        .points
                        .push(Checkpoint::member_start(total, input.pos));
                    index.complete = true;
                    return Ok(kept);
                }
                Some(()) => {
                    inflate.reset();
                    if spanned(index, packer, since) {
                        let point = Checkpoint::member_start(total, input.pos);
                        if finish_chunk(index, &mut out, point, keep, &mut kept, target) {
                            return Ok(kept);
                        }
                    }
                }
            }
            idle = 0;
            continue;
        }
        if step.at_block_end && !step.last_block {
            // The next block starts here: a checkpoint every span, a stop between.
            let bit = input.pos * 8 - u64::from(step.unused_bits);
            if spanned(index, packer, since) {
                let point = Checkpoint::inside_raw(
                    total,
                    bit,
                    member_out,
                    crc.clone().finalize(),
                    out.window(),
                );
                let done = finish_chunk(index, &mut out, point, keep, &mut kept, target);
                packer.submit(index, index.points.len() - 1);
                if done {
                    return Ok(kept);
                }
            } else if out.one_member && total > out.stops.last().map_or(index.covered(), |s| s.out)
            {
                out.stops.push(Stop {
                    out: total,
                    bit,
                    crc: crc.clone().finalize(),
                });
            }
        }
        if step.used == 0 && step.produced == 0 {
            if input.eof && input.avail().is_empty() {
                return Err(truncated(target, total));
            }
            idle += 1;
            if idle > 3 {
                return Err(Error::gzip(input.pos, "inflate made no progress"));
            }
        } else {
            idle = 0;
        }
    }
}

/// True if the chunk being decoded, `since` bytes long so far, may end
/// here ([`SeekIndex::next_span`], once the last checkpoint's window is
/// deflated and its memory known).
fn spanned(index: &mut SeekIndex, packer: &mut Packer, since: u64) -> bool {
    if since < index.span {
        return false;
    }
    packer.settle(index);
    since >= index.next_span()
}

/// Record `point` as the end of the current chunk (keeping the chunk's bytes
/// if asked); true when the index now covers `target`.
fn finish_chunk(
    index: &mut SeekIndex,
    out: &mut Output,
    point: Checkpoint,
    keep: &dyn Fn(u64, u64) -> bool,
    kept: &mut Vec<DecodedChunk>,
    target: u64,
) -> bool {
    let wanted = keep(index.covered(), point.out);
    let number = index.points.len() - 1;
    close_stops(index, out, point.out);
    index.points.push(point);
    if wanted {
        let (buf, head) = out.hand_over();
        kept.push(DecodedChunk { number, buf, head });
    } else {
        out.next_chunk();
    }
    index.covered() >= target
}

/// Hand the block ends seen in the current chunk, which ends at output
/// offset `end`, to the point that starts it. Block ends at `end` itself
/// (empty blocks before the final one) are not inside the chunk.
fn close_stops(index: &mut SeekIndex, out: &mut Output, end: u64) {
    let mut stops = std::mem::take(&mut out.stops);
    stops.retain(|s| s.out < end);
    if let Some(last) = index.points.last_mut() {
        last.set_stops(stops);
    }
    out.one_member = true;
}

/// After a member's trailer: skip the next member's header and return
/// `Some`, or `None` at the end of the stream (end of file, zero padding or
/// other bytes that do not start a member, as gzip(1) reads them).
fn next_member(input: &mut Input<'_>) -> Result<Option<()>> {
    let mut want = 16;
    loop {
        let pos = input.pos;
        let bytes = input.ensure(want)?;
        match bytes {
            [] => return Ok(None),
            [0x1f] => {
                return Err(Error::TruncatedFile {
                    what: "gzip member (the stream ends inside its header)",
                    expected: pos + 10,
                    got: pos + 1,
                })
            }
            [0x1f, 0x8b, ..] => {}
            _ => return Ok(None),
        }
        match scan_header(bytes) {
            HeaderScan::Complete(n) => {
                input.consume(n);
                return Ok(Some(()));
            }
            HeaderScan::Invalid(why) => return Err(Error::gzip(pos, why)),
            HeaderScan::NeedMore if bytes.len() < want => {
                return Err(Error::TruncatedFile {
                    what: "gzip member (the stream ends inside its header)",
                    expected: pos + want as u64,
                    got: pos + bytes.len() as u64,
                })
            }
            HeaderScan::NeedMore if want >= MAX_HEADER => {
                return Err(Error::gzip(pos, "gzip member header too long"))
            }
            HeaderScan::NeedMore => want *= 4,
        }
    }
}

fn truncated(expected: u64, got: u64) -> Error {
    Error::TruncatedFile {
        what: "gzip member (the stream ends inside it)",
        expected,
        got,
    }
}

/// Where the first member's deflate data starts.
pub fn first_data_offset(src: &dyn ReadAt) -> Result<u64> {
    let mut input = Input::at(src, 0);
    let head = input.ensure(2)?;
    if head.len() < 2 || head[..2] != [0x1f, 0x8b] {
        return Err(Error::gzip(0, "not a gzip stream (bad magic)"));
    }
    match next_member(&mut input)? {
        Some(()) => Ok(input.pos),
        None => Err(Error::gzip(0, "not a gzip stream (bad magic)")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::inflate::tests::{gzip, phantom};
    use super::*;

    fn built(gz: &[u8], helped: bool) -> SeekIndex {
        let mut index = SeekIndex::new(
            super::super::index::MIN_SPAN,
            first_data_offset(&gz).unwrap(),
        );
        let src: &[u8] = gz;
        if helped {
            grow_helped(&src, &mut index, u64::MAX, &|_, _| false).unwrap();
        } else {
            grow(
                &src,
                &mut index,
                u64::MAX,
                &|_, _| false,
                &mut Packer::here().unwrap(),
            )
            .unwrap();
        }
        index
    }

    #[test]
    fn windows_deflated_on_a_helper_give_the_index_deflated_here() {
        let data = phantom(6 << 20);
        let gz = gzip(&data, 6);
        let (here, helped) = (built(&gz, false), built(&gz, true));
        assert!(here.complete && helped.complete);
        assert!(here.points.len() > 10, "{} points", here.points.len());
        // The same checkpoints (the spacing rule saw the same memory), each
        // window deflated the same, smaller than raw.
        assert_eq!(here.points, helped.points);
        let inside = &here.points[1..here.points.len() - 1];
        assert!(inside
            .iter()
            .all(|p| p.packed_window().len() < p.window_len()));
        let mut d = Decompressor::new().unwrap();
        for p in inside {
            let at = p.out as usize;
            assert!(p.window(&mut d).unwrap() == data[at - WINDOW..at]);
        }
    }
}
