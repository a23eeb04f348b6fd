//! Read-only maps of plain data files, kept between region reads, with the
//! memory they hold bounded. On a fault the kernel maps the whole page-cache
//! folio around the page (often hundreds of KiB), so a map's resident pages
//! grow with every read, count against the process, and stay until it is
//! unmapped. Reads note the span of bytes they may have brought in, in 2 MiB
//! blocks of each map (a block read again, as overlapping patches do, is
//! not counted twice); past a budget, every cached map drops its pages (the
//! page cache keeps them, so the next read faults them back in cheaply).

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::Mutex;

use crate::cache::MAPS;
use crate::error::{Error, Result};
use crate::pages;
use crate::voxels::RangeReader;

/// Bytes reads may expose through maps before their pages are dropped.
pub(crate) const BUDGET: u64 = 64 << 20;
/// A sparse read drops the pages behind it every time it has moved on by this much.
const DROP_BEHIND: u64 = 4 << 20;

static EXPOSED: AtomicU64 = AtomicU64::new(0);

/// Granularity of the exposure accounting.
const BLOCK: u64 = 2 << 20;

/// A read-only map of a whole data file, with the blocks reads exposed
/// since its pages were last dropped.
#[derive(Debug)]
pub struct MappedFile(memmap2::Mmap, Mutex<Vec<u64>>);

impl MappedFile {
    /// Wrap a read-only map.
    pub fn new(map: memmap2::Mmap) -> MappedFile {
        let blocks = (map.len() as u64).div_ceil(BLOCK).div_ceil(64) as usize;
        MappedFile(map, Mutex::new(vec![0; blocks]))
    }

    /// Note that a read touched bytes spread over `lo..hi` of the file; drop
    /// the pages of every cached map once the blocks newly exposed, over all
    /// maps, pass the budget.
    pub fn exposed(&self, lo: u64, hi: u64) {
        let fresh = self.mark(lo, hi);
        if EXPOSED
            .fetch_add(fresh, Ordering::Relaxed)
            .saturating_add(fresh)
            > BUDGET
        {
            EXPOSED.store(0, Ordering::Relaxed);
            MAPS.for_each(|map: &Arc<MappedFile>| map.drop_pages());
        }
    }

    /// Mark the blocks of bytes `lo..hi` exposed; the bytes of those that
    /// were not yet.
    fn mark(&self, lo: u64, hi: u64) -> u64 {
        let mut fresh = 0;
        let hi = hi.min(self.0.len() as u64);
        if let Some(mut bits) = crate::cache::lock_briefly(&self.1) {
            for block in lo / BLOCK..hi.div_ceil(BLOCK) {
                if let Some(word) = bits.get_mut((block / 64) as usize) {
                    let bit = 1u64 << (block % 64);
                    fresh += u64::from(*word & bit == 0) * BLOCK;
                    *word |= bit;
                }
            }
        }
        fresh
    }

    /// Drop the pages of the whole pages inside bytes `from..to` of the file.
    fn drop_range(&self, from: u64, to: u64) {
        let (Ok(from), Ok(to)) = (usize::try_from(from), usize::try_from(to)) else {
            return;
        };
        let to = to.min(self.0.len());
        if from < to {
            // SAFETY: the range lies inside this map, a shared read-only map
            // of a file: dropping its pages loses no data (a later access,
            // also one racing in another thread, faults the bytes back in
            // from the page cache), and madvise writes nothing.
            unsafe {
                pages::advise(
                    self.0.as_ptr().add(from).cast_mut(),
                    to - from,
                    pages::PAGE,
                    libc::MADV_DONTNEED,
                );
            }
        }
    }

    /// Call `f(k, bytes)` with bytes `ranges[k]` (file offsets, sorted) of
    /// the map, dropping the pages behind as it goes: a read that takes a
    /// few bytes from every page of a big file (a sagittal plane) touches
    /// only those pages, instead of copying the whole span out of the page
    /// cache, and holds only a few MiB of them at a time.
    pub fn copy_dropping_behind(
        &self,
        ranges: &[(u64, u64)],
        f: &mut RangeReader<'_>,
    ) -> Result<()> {
        let Some(&(mut behind, _)) = ranges.first() else {
            return Ok(());
        };
        let mut end = behind;
        for (k, &(s, e)) in ranges.iter().enumerate() {
            let bytes = usize::try_from(s)
                .ok()
                .zip(usize::try_from(e).ok())
                .and_then(|(s, e)| self.0.get(s..e))
                .ok_or_else(|| Error::TruncatedFile {
                    what: "voxel data",
                    expected: e,
                    got: self.0.len() as u64,
                })?;
            f(k, bytes);
            end = end.max(e);
            if s - behind.min(s) >= DROP_BEHIND {
                self.drop_range(behind, s);
                behind = s;
            }
        }
        self.drop_range(behind, end);
        Ok(())
    }

    fn drop_pages(&self) {
        if let Some(mut bits) = crate::cache::lock_briefly(&self.1) {
            bits.fill(0);
        }
        // SAFETY: the map is a shared, read-only map of a file: dropping its
        // pages changes no data (a later access, also one racing in another
        // thread, faults the same bytes back from the page cache).
        let _ = unsafe { self.0.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
    }
}

impl Deref for MappedFile {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_read_again_are_not_exposed_again_until_dropped() {
        let file = tempfile::tempfile().unwrap();
        file.set_len(9 << 20).unwrap();
        // SAFETY: test-only map of a private temporary file.
        let map = MappedFile::new(unsafe { memmap2::Mmap::map(&file).unwrap() });
        assert_eq!(map.mark(1 << 20, 3 << 20), 2 * BLOCK, "blocks 0 and 1");
        assert_eq!(map.mark(0, 4 << 20), 0, "the same blocks");
        assert_eq!(map.mark(4 << 20, 9 << 20), 3 * BLOCK, "blocks 2 to 4");
        assert_eq!(map.mark(9 << 20, 100 << 20), 0, "past the end");
        map.drop_pages();
        assert_eq!(map.mark(0, 1), BLOCK, "counted again once dropped");
    }
}
