//! Streaming gzip reader: inflate only as far as the caller reads.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::GzDecoder;

use crate::error::{Error, Result};

/// Counts compressed bytes consumed, to report where a stream went bad.
struct Counting<R> {
    inner: R,
    consumed: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

type Source<R> = Counting<BufReader<R>>;

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
        let source = Counting {
            inner: BufReader::with_capacity(buffer, inner),
            consumed: 0,
        };
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
    /// are a gzip header, else end the stream. Returns false at the end.
    fn next_member(&mut self) -> Result<bool> {
        let Some(done) = self.member.take() else {
            return Ok(false);
        };
        let mut source = done.into_inner();
        let next = source.fill_buf().map_err(Error::Io)?;
        if next.len() >= 2 && next[0] == 0x1f && next[1] == 0x8b {
            self.member = Some(GzDecoder::new(source));
            return Ok(true);
        }
        Ok(false)
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
