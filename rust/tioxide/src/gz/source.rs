//! Compressed bytes by position: a local file, or anything else that can
//! read at an offset (a Python file object, a remote file).

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::error::{Error, Result};

/// A seekable, immutable byte source.
pub trait ReadAt: Send + Sync {
    /// Total length in bytes.
    fn size(&self) -> Result<u64>;

    /// Read into `buf` from `offset`; fewer bytes only at the end of the source.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize>;

    /// Exactly `len` bytes from `offset` (fewer only at the end of the
    /// source). Memory for them that cannot be had is an error, not an abort.
    fn read_vec(&self, offset: u64, len: usize) -> Result<Vec<u8>> {
        let mut buf: Vec<u8> = Vec::new();
        buf.try_reserve_exact(len)
            .map_err(|_| Error::Io(std::io::Error::from(std::io::ErrorKind::OutOfMemory)))?;
        buf.resize(len, 0);
        let n = self.read_at(offset, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }
}

impl ReadAt for File {
    fn size(&self) -> Result<u64> {
        Ok(self.metadata()?.len())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            match FileExt::read_at(self, &mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(filled)
    }
}

impl ReadAt for &[u8] {
    fn size(&self) -> Result<u64> {
        Ok(self.len() as u64)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

impl ReadAt for Vec<u8> {
    fn size(&self) -> Result<u64> {
        Ok(self.len() as u64)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        (&self[..]).read_at(offset, buf)
    }
}
