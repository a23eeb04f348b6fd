//! Streaming gzip reader: inflate only as far as the caller reads.

use std::io::{self, BufRead, Read};

use flate2::bufread::GzDecoder;

use crate::error::{Error, Result};

/// A buffered reader that counts the compressed bytes consumed (to report
/// where a stream went bad) and can guarantee a minimum look-ahead (to tell a
/// following gzip member from trailing garbage across buffer boundaries).
struct Source<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    consumed: u64,
}

impl<R: Read> Source<R> {
    fn new(inner: R, capacity: usize) -> Source<R> {
        Source {
            inner,
            buf: vec![0; capacity.max(16)],
            start: 0,
            end: 0,
            consumed: 0,
        }
    }

    /// Buffered bytes, at least `n` of them unless the input ends first.
    fn peek(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            while self.end < n {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(0) => break,
                    Ok(k) => self.end += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end])
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(k) => {
                        self.end = k;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end])
    }
    fn consume(&mut self, amt: usize) {
        self.start = (self.start + amt).min(self.end);
        self.consumed += amt as u64;
    }
}

/// A decompressed view of a gzip stream, read front to back.
///
/// Members are followed one after another; after the last one, bytes that
/// do not start a new member (zero padding, garbage) end the stream, as in
/// gzip(1).
pub struct GzStream<R: Read> {
    member: Option<GzDecoder<Source<R>>>,
    position: u64,
    scratch: Vec<u8>,
}

impl<R: Read> GzStream<R> {
    /// Wrap a compressed byte source, reading it `buffer` bytes at a time
    /// (small for a header, large for voxels).
    pub fn new(inner: R, buffer: usize) -> GzStream<R> {
        let source = Source::new(inner, buffer);
        GzStream {
            member: Some(GzDecoder::new(source)),
            position: 0,
            scratch: Vec::new(),
        }
    }

    /// Decompressed bytes read so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    fn fail(&self, e: io::Error, wanted: u64) -> Error {
        let offset = self.member.as_ref().map_or(0, |m| m.get_ref().consumed);
        match e.kind() {
            io::ErrorKind::UnexpectedEof => Error::TruncatedFile {
                what: "gzip member (the stream ends inside it)",
                expected: wanted,
                got: self.position,
            },
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
                Error::gzip(offset, e.to_string())
            }
            _ => Error::Io(e),
        }
    }

    /// At the end of a member: start the next one if the following bytes
    /// begin a gzip header (a lone 0x1f at the very end is a member cut
    /// short, as gzip(1) sees it), else end the stream. False at the end.
    fn next_member(&mut self) -> Result<bool> {
        let Some(done) = self.member.take() else {
            return Ok(false);
        };
        let mut source = done.into_inner();
        let next = source.peek(2).map_err(Error::Io)?;
        match next {
            [0x1f] => Err(Error::TruncatedFile {
                what: "gzip member (the stream ends inside its header)",
                expected: source.consumed + 10,
                got: source.consumed + 1,
            }),
            [0x1f, 0x8b, ..] => {
                self.member = Some(GzDecoder::new(source));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Read as much as possible into `buf` (less only at the end of the stream).
    pub fn read_up_to(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            let Some(member) = self.member.as_mut() else {
                break;
            };
            match member.read(&mut buf[filled..]) {
                Ok(0) => {
                    if !self.next_member()? {
                        break;
                    }
                }
                Ok(n) => {
                    filled += n;
                    self.position += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let wanted = self.position + (buf.len() - filled) as u64;
                    return Err(self.fail(e, wanted));
                }
            }
        }
        Ok(filled)
    }

    /// Fill `buf` exactly; a short stream is a [`Error::TruncatedFile`] about `what`.
    pub fn read_exact(&mut self, buf: &mut [u8], what: &'static str) -> Result<()> {
        let start = self.position;
        let n = self.read_up_to(buf)?;
        if n < buf.len() {
            return Err(Error::TruncatedFile {
                what,
                expected: start + buf.len() as u64,
                got: start + n as u64,
            });
        }
        Ok(())
    }

    /// Inflate and drop the rest of the stream, checking every remaining
    /// member's CRC32 and ISIZE.
    pub fn drain(&mut self) -> Result<()> {
        self.skip_to(u64::MAX, "gzip stream").or_else(|e| match e {
            Error::TruncatedFile {
                expected: u64::MAX, ..
            } => Ok(()),
            other => Err(other),
        })
    }

    /// Decompress and drop bytes until `position() == target`.
    pub fn skip_to(&mut self, target: u64, what: &'static str) -> Result<()> {
        if self.scratch.is_empty() {
            self.scratch = vec![0u8; 1 << 16];
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let result = (|| {
            while self.position < target {
                let n = ((target - self.position) as usize).min(scratch.len());
                let start = self.position;
                let got = self.read_up_to(&mut scratch[..n])?;
                if got < n {
                    return Err(Error::TruncatedFile {
                        what,
                        expected: target,
                        got: start + got as u64,
                    });
                }
            }
            Ok(())
        })();
        self.scratch = scratch;
        result
    }
}
