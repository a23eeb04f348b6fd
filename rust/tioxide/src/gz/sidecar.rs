//! Seek indexes saved next to their gzip file (`brain.nii.gz.tioxidx`), so
//! a dataset is indexed once, not once per process.
//!
//! Format (little-endian): magic `TIOXIDX\0`, version u32, the compressed
//! file's size u64 and the CRC32s of its first and last 64 KiB (a changed
//! file gives a stale index, detected and ignored), span u64, complete u8,
//! count u64, then per checkpoint out u64, bit u64, member_out u64, crc u32,
//! member_start u8, pad u8, window length u32, stored length u32 and the
//! stored window; then (from version 2) per checkpoint the block ends of
//! its chunk: count u32 and per stop out u64, bit u64, crc u32; last, the
//! CRC32 of everything before it. Version 1 files (no block ends) are read.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::index::{Checkpoint, SeekIndex, Stop, MIN_SPAN, WINDOW};
use super::source::ReadAt;
use crate::error::Result;

const MAGIC: &[u8; 8] = b"TIOXIDX\0";
const VERSION: u32 = 2;
/// Bytes of one stop in the file.
const STOP_BYTES: usize = 8 + 8 + 4;
const SAMPLE: u64 = 64 << 10;

/// Where the sidecar of `data` lives.
pub fn sidecar_path(data: &Path) -> PathBuf {
    let mut name = data.as_os_str().to_os_string();
    name.push(".tioxidx");
    PathBuf::from(name)
}

/// Size and CRC32s of the head and tail of the compressed file.
fn fingerprint(src: &dyn ReadAt) -> Result<(u64, u32, u32)> {
    let size = src.size()?;
    let head = src.read_vec(0, SAMPLE.min(size) as usize)?;
    let tail_at = size.saturating_sub(SAMPLE);
    let tail = src.read_vec(tail_at, (size - tail_at) as usize)?;
    Ok((size, crc32fast::hash(&head), crc32fast::hash(&tail)))
}

/// Write `index` of `src` to `path` (through a temporary file renamed into place).
pub fn save(path: &Path, index: &SeekIndex, src: &dyn ReadAt) -> Result<()> {
    let (size, head, tail) = fingerprint(src)?;
    let mut b = Vec::with_capacity(64 + index.memory());
    b.extend_from_slice(MAGIC);
    b.extend_from_slice(&VERSION.to_le_bytes());
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&head.to_le_bytes());
    b.extend_from_slice(&tail.to_le_bytes());
    b.extend_from_slice(&index.span.to_le_bytes());
    b.push(u8::from(index.complete));
    b.extend_from_slice(&(index.points.len() as u64).to_le_bytes());
    for p in &index.points {
        b.extend_from_slice(&p.out.to_le_bytes());
        b.extend_from_slice(&p.bit.to_le_bytes());
        b.extend_from_slice(&p.member_out.to_le_bytes());
        b.extend_from_slice(&p.crc.to_le_bytes());
        b.push(u8::from(p.member_start));
        b.push(p.pad);
        b.extend_from_slice(&(p.window_len() as u32).to_le_bytes());
        b.extend_from_slice(&(p.packed_window().len() as u32).to_le_bytes());
        b.extend_from_slice(p.packed_window());
    }
    for p in &index.points {
        b.extend_from_slice(&(p.stops().len() as u32).to_le_bytes());
        for s in p.stops() {
            b.extend_from_slice(&s.out.to_le_bytes());
            b.extend_from_slice(&s.bit.to_le_bytes());
            b.extend_from_slice(&s.crc.to_le_bytes());
        }
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    crate::writer::write_atomically(path, |file| Ok(file.write_all(&b)?))
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> std::result::Result<&[u8], String> {
        let s = self
            .b
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or("it is truncated")?;
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| "bad")?,
        ))
    }
    fn u64(&mut self) -> std::result::Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| "bad")?,
        ))
    }
}

/// The index saved at `path` for `src`: `Ok(None)` when there is no
/// sidecar, `Err(reason)` when there is one that cannot be trusted (damaged,
/// another version, or made for other contents).
pub fn load(path: &Path, src: &dyn ReadAt) -> std::result::Result<Option<SeekIndex>, String> {
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes, src).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// A saved index (the bytes of a sidecar) for `src`, or why it cannot be trusted.
pub fn parse(bytes: &[u8], src: &dyn ReadAt) -> std::result::Result<SeekIndex, String> {
    if bytes.len() < MAGIC.len() + 4 + 4 || &bytes[..8] != MAGIC {
        return Err("not a tioxide seek index".into());
    }
    let (body, stored) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body).to_le_bytes() != stored {
        return Err("it is damaged (checksum mismatch)".into());
    }
    let mut r = Reader { b: body, pos: 8 };
    let version = r.u32()?;
    if version != VERSION && version != 1 {
        return Err(format!(
            "format version {version}, this tioxide reads 1 to {VERSION}"
        ));
    }
    let (size, head, tail) = fingerprint(src).map_err(|e| e.to_string())?;
    if (r.u64()?, r.u32()?, r.u32()?) != (size, head, tail) {
        return Err("it was made for other contents (the file changed)".into());
    }
    let span = r.u64()?;
    let complete = r.u8()? != 0;
    let count = r.u64()?;
    if span < MIN_SPAN || count == 0 || count > size.saturating_mul(8) / 8 + 2 {
        return Err("its header is invalid".into());
    }
    let mut points: Vec<Checkpoint> = Vec::new();
    for _ in 0..count {
        let (out, bit, member_out, crc) = (r.u64()?, r.u64()?, r.u64()?, r.u32()?);
        let (member_start, pad) = (r.u8()? != 0, r.u8()?);
        let (window_len, packed_len) = (r.u32()?, r.u32()?);
        let packed = r.take(packed_len as usize)?.to_vec();
        let window_ok = if member_start {
            window_len == 0 && member_out == 0 && bit % 8 == 0
        } else {
            u64::from(window_len) == member_out.min(WINDOW as u64)
        };
        let sane = window_ok
            && member_out <= out
            && packed_len <= window_len
            && pad < 8
            && bit <= size.saturating_mul(8)
            && points.last().is_none_or(|p| {
                // Deflate expands at most 1032:1: a longer chunk would make a
                // reader allocate what the stream can never fill.
                let most = ((bit - p.bit.min(bit)) / 8 + 1).saturating_mul(1032);
                out >= p.out && bit > p.bit && out - p.out <= most
            });
        if !sane {
            return Err("a checkpoint is invalid".into());
        }
        points.push(Checkpoint::from_parts(
            out,
            bit,
            member_out,
            crc,
            member_start,
            pad,
            window_len,
            packed,
        ));
    }
    if version >= 2 {
        read_stops(&mut r, &mut points)?;
    }
    if r.pos != body.len() || points[0].out != 0 || !points[0].member_start {
        return Err("its layout is invalid".into());
    }
    Ok(SeekIndex {
        span,
        points,
        complete,
    })
}

/// Read the block ends of every chunk, each checked to lie inside its chunk.
fn read_stops(r: &mut Reader<'_>, points: &mut [Checkpoint]) -> std::result::Result<(), String> {
    for i in 0..points.len() {
        let count = r.u32()? as usize;
        if count.saturating_mul(STOP_BYTES) > r.b.len() - r.pos {
            return Err("it is truncated".into());
        }
        let (a, b) = (&points[i], points.get(i + 1));
        if count > 0 && b.is_none() {
            return Err("a block end is invalid".into());
        }
        let mut stops = Vec::with_capacity(count);
        let (mut out, mut bit) = (a.out, a.bit);
        for _ in 0..count {
            let s = Stop {
                out: r.u64()?,
                bit: r.u64()?,
                crc: r.u32()?,
            };
            let most = ((s.bit.saturating_sub(a.bit)) / 8 + 1).saturating_mul(1032);
            let inside = b.is_some_and(|b| s.out < b.out && s.bit < b.bit);
            if !(s.out > out && s.bit > bit && inside && s.out - a.out <= most) {
                return Err("a block end is invalid".into());
            }
            (out, bit) = (s.out, s.bit);
            stops.push(s);
        }
        points[i].set_stops(stops);
    }
    Ok(())
}
