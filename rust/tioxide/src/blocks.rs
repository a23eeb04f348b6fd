//! A dense array kept in a file (Fortran order, from a byte offset) and
//! read or written one block at a time with positioned I/O, so that a
//! process working through a volume larger than memory holds only the
//! blocks in hand: no memory map, whose touched pages would count against
//! the process.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::region::{self, AxisRange, Region, Rows};
use crate::voxels;

/// Neighbouring rows closer than this are read with one call.
const READ_GAP: u64 = 64 << 10;
/// At most this much is read per call.
const READ_CAP: u64 = 1 << 20;

/// An N-d array of `elem`-byte elements stored at `offset` in `file`.
#[derive(Debug)]
pub struct BlockFile {
    file: File,
    offset: u64,
    shape: Vec<usize>,
    elem: usize,
}

impl BlockFile {
    /// Blocks of an array of `shape` stored at `offset` in `file`, which
    /// must be open for reading (and writing, to write blocks) and at least
    /// as long as the array (extend it with `set_len` first if needed).
    pub fn new(file: File, offset: u64, shape: &[usize], elem: usize) -> Result<BlockFile> {
        if shape.is_empty() || elem == 0 {
            return Err(Error::InvalidData(format!(
                "an array needs at least one axis and a non-empty element (shape {shape:?}, {elem}-byte elements)"
            )));
        }
        let bytes = shape
            .iter()
            .try_fold(elem as u64, |acc, &n| acc.checked_mul(n as u64))
            .and_then(|b| b.checked_add(offset))
            .ok_or_else(|| {
                Error::InvalidData(format!("an array of shape {shape:?} is too large"))
            })?;
        let len = file.metadata()?.len();
        if len < bytes {
            return Err(Error::TruncatedFile {
                what: "array data",
                expected: bytes,
                got: len,
            });
        }
        Ok(BlockFile {
            file,
            offset,
            shape: shape.to_vec(),
            elem,
        })
    }

    /// A zero-filled array of `shape` in a new file in `dir` that has no
    /// name (it is gone when dropped, even if the process is killed).
    pub fn scratch(dir: &Path, shape: &[usize], elem: usize) -> Result<BlockFile> {
        let run = || -> Result<BlockFile> {
            let mut n = 0u32;
            let (path, file) = loop {
                let path = dir.join(format!(".tioxide-scratch-{}-{n}", std::process::id()));
                match OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&path)
                {
                    Ok(file) => break (path, file),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 10_000 => n += 1,
                    Err(e) => return Err(e.into()),
                }
            };
            std::fs::remove_file(&path)?;
            let bytes = shape
                .iter()
                .try_fold(elem as u64, |acc, &n| acc.checked_mul(n as u64))
                .ok_or_else(|| Error::InvalidData(format!("shape {shape:?} is too large")))?;
            file.set_len(bytes)?;
            BlockFile::new(file, 0, shape, elem)
        };
        run().map_err(|e| e.in_file(dir))
    }

    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The block starting at `start` with `size` elements per axis, in
    /// Fortran order.
    pub fn read(&self, start: &[usize], size: &[usize]) -> Result<Vec<u8>> {
        let region = self.region(start, size)?;
        let ranges = self.ranges(&region);
        let row = size[0] * self.elem;
        let mut out = vec![0u8; region.num_elements() * self.elem];
        let mut failed = None;
        voxels::read_coalesced(
            &self.file,
            &ranges,
            READ_GAP,
            READ_CAP,
            &mut |i, src| match out.get_mut(i * row..(i + 1) * row) {
                Some(dst) if src.len() == row => dst.copy_from_slice(src),
                _ => failed = Some(i),
            },
        )?;
        match failed {
            Some(i) => Err(Error::InvalidData(format!(
                "row {i} of the block is misplaced"
            ))),
            None => Ok(out),
        }
    }

    /// Write the block starting at `start` with `size` elements per axis
    /// from `data` (Fortran order).
    pub fn write(&self, start: &[usize], size: &[usize], data: &[u8]) -> Result<()> {
        let region = self.region(start, size)?;
        let row = size[0] * self.elem;
        if data.len() != region.num_elements() * self.elem {
            return Err(Error::InvalidData(format!(
                "{} bytes do not fill a block of {size:?} elements of {} bytes",
                data.len(),
                self.elem
            )));
        }
        if row == 0 {
            return Ok(());
        }
        // Rows that follow each other in the file go out in one call.
        let ranges = self.ranges(&region);
        let mut k = 0;
        while k < ranges.len() {
            let mut last = k;
            while ranges.get(last + 1).is_some_and(|r| r.0 == ranges[last].1) {
                last += 1;
            }
            self.file
                .write_all_at(&data[k * row..(last + 1) * row], ranges[k].0)?;
            k = last + 1;
        }
        Ok(())
    }

    /// Flush written blocks to the disk.
    pub fn sync(&self) -> Result<()> {
        Ok(self.file.sync_all()?)
    }

    fn region(&self, start: &[usize], size: &[usize]) -> Result<Region> {
        if start.len() != self.shape.len() || size.len() != self.shape.len() {
            return Err(Error::InvalidRegion(format!(
                "a block of {} axes (start {start:?}, size {size:?}) in an array of shape {:?}",
                start.len().max(size.len()),
                self.shape
            )));
        }
        let region = Region(
            start
                .iter()
                .zip(size)
                .map(|(&start, &count)| AxisRange {
                    start,
                    step: 1,
                    count,
                })
                .collect(),
        );
        region.validate(&self.shape)?;
        Ok(region)
    }

    fn ranges(&self, region: &Region) -> Vec<(u64, u64)> {
        let (span, _) = region::row_extent(region, self.elem);
        Rows::new(region, &self.shape, self.elem)
            .map(|off| (self.offset + off, self.offset + off + span as u64))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(len: u64) -> File {
        let blocks = BlockFile::scratch(&std::env::temp_dir(), &[len as usize], 1).unwrap();
        blocks.file
    }

    #[test]
    fn blocks_round_trip_and_land_in_fortran_order() {
        let shape = [5usize, 4, 3];
        let blocks = BlockFile::new(scratch(7 + 60), 7, &shape, 1).unwrap();
        let data: Vec<u8> = (0..2 * 3 * 2).map(|v| v as u8 + 1).collect();
        blocks.write(&[1, 1, 1], &[2, 3, 2], &data).unwrap();
        assert_eq!(blocks.read(&[1, 1, 1], &[2, 3, 2]).unwrap(), data);
        let all = blocks.read(&[0, 0, 0], &shape).unwrap();
        for (n, &v) in all.iter().enumerate() {
            let (i, j, k) = (n % 5, (n / 5) % 4, n / 20);
            let inside = (1..3).contains(&i) && (1..4).contains(&j) && (1..3).contains(&k);
            let expected = if inside {
                data[(i - 1) + 2 * ((j - 1) + 3 * (k - 1))]
            } else {
                0
            };
            assert_eq!(v, expected, "voxel {i},{j},{k}");
        }
    }

    #[test]
    fn bad_blocks_are_errors() {
        let blocks = BlockFile::new(scratch(24), 0, &[2, 3, 4], 1).unwrap();
        assert!(blocks.read(&[1, 0, 0], &[2, 1, 1]).is_err());
        assert!(blocks.read(&[0, 0], &[1, 1]).is_err());
        assert!(blocks.write(&[0, 0, 0], &[1, 1, 1], &[1, 2]).is_err());
        assert!(BlockFile::new(scratch(10), 0, &[2, 3, 4], 1).is_err());
        assert!(BlockFile::new(scratch(10), 0, &[usize::MAX, 3], 8).is_err());
        assert!(BlockFile::new(scratch(10), 0, &[], 1).is_err());
        assert!(BlockFile::new(scratch(10), 0, &[2], 0).is_err());
    }
}
