//! Read-only maps of plain data files, kept between region reads, with the
//! memory they hold bounded. On a fault the kernel maps the whole page-cache
//! folio around the page (often hundreds of KiB), so a map's resident pages
//! grow with every read, count against the process, and stay until it is
//! unmapped. Reads note the span of bytes they may have brought in, in 2 MiB
//! blocks of each map (a block read again, as overlapping patches do, is
//! not counted twice): an upper bound, three to four times what random
//! patches really map. When it passes the budget, the process's resident
//! file pages are counted (`/proc/self/statm`); only if the maps really
//! hold more than the budget does every cached map drop its pages (the
//! page cache keeps them, so the next read faults them back in cheaply).
//!
//! The pages are page-cache pages, shared with every process reading the
//! file: a map holding them costs page tables, not a copy. Holding them
//! saves the faults. Random 32^3 patches of a 512x512x320 int16 file
//! (160 MiB), one thread: 4,300-5,300 per second when the spans alone
//! were counted against a 64 MiB budget (every other patch dropped the
//! pages), 10,700-20,500 now that the file stays mapped. The default budget
//! is that of the other caches (256 MiB); `set_budget` changes it.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::Mutex;

use crate::cache::MAPS;
use crate::error::{Error, Result};
use crate::pages;
use crate::voxels::RangeReader;

/// Default of the bytes the maps may hold resident.
pub const DEFAULT_BUDGET: u64 = 256 << 20;
/// Bytes the maps may hold resident before their pages are dropped.
static BUDGET: AtomicU64 = AtomicU64::new(DEFAULT_BUDGET);
/// A sparse read drops the pages behind it every time it has moved on by this much.
const DROP_BEHIND: u64 = 4 << 20;

/// Upper bound of the bytes the maps have brought in since the last count.
static EXPOSED: AtomicU64 = AtomicU64::new(0);
/// Resident file-backed bytes of the process when the maps last dropped
/// their pages (or when the first was made): what the maps hold is the
/// growth since. `u64::MAX` until first set.
static BASELINE: AtomicU64 = AtomicU64::new(u64::MAX);

/// Most the baseline rises by at a drop: enough to follow libraries the
/// process maps in over time within a few drops.
const BASELINE_RISE: u64 = 16 << 20;

/// Set the bytes the cached maps may hold resident (0: only the pages of
/// the last read).
pub fn set_budget(bytes: u64) {
    BUDGET.store(bytes, Ordering::Relaxed);
}

/// Bytes the cached maps may hold resident.
pub fn budget() -> u64 {
    BUDGET.load(Ordering::Relaxed)
}

/// Bytes the process's resident file and shared pages grew by since the
/// maps last dropped theirs (or since the first map): what the maps hold,
/// give or take what the process maps otherwise (libraries, shared memory),
/// 0 if `/proc` does not tell.
pub fn held() -> u64 {
    resident_file_bytes().and_then(held_at).unwrap_or(0)
}

/// What the maps hold when the process's resident file pages are `now`
/// bytes (`None` before the first map set the baseline).
fn held_at(now: u64) -> Option<u64> {
    let base = BASELINE.load(Ordering::Relaxed);
    (base != u64::MAX).then(|| now.saturating_sub(base))
}

/// Resident file-backed and shared bytes of this process (`statm`'s third
/// field), if `/proc` tells.
fn resident_file_bytes() -> Option<u64> {
    use std::io::Read;
    let mut buf = [0u8; 128];
    let mut file = std::fs::File::open("/proc/self/statm").ok()?;
    let n = file.read(&mut buf).ok()?;
    let text = std::str::from_utf8(buf.get(..n)?).ok()?;
    let pages: u64 = text.split_ascii_whitespace().nth(2)?.parse().ok()?;
    Some(pages.saturating_mul(pages::PAGE as u64))
}

/// Note `fresh` more bytes that reads may have mapped in; past the budget,
/// count what the maps hold and drop every map's pages if that is too much.
fn note_exposed(fresh: u64) {
    let budget = budget();
    let bound = EXPOSED
        .fetch_add(fresh, Ordering::Relaxed)
        .saturating_add(fresh);
    if bound <= budget {
        return;
    }
    if let Some(held) = resident_file_bytes().and_then(held_at) {
        if held <= budget {
            // The bound overshot: carry on from the true count. A block
            // already counted may be mapped only in part (a patch maps a
            // few folios of each slice), so every block counts again.
            EXPOSED.store(held, Ordering::Relaxed);
            MAPS.for_each(|map: &Arc<MappedFile>| map.forget_marks());
            return;
        }
    }
    EXPOSED.store(0, Ordering::Relaxed);
    MAPS.for_each(|map: &Arc<MappedFile>| map.drop_pages());
    if let Some(after) = resident_file_bytes() {
        // Other threads' reads may have mapped pages back in since the drop
        // (hundreds of MiB, if this thread was preempted): the baseline
        // rises by a little at a time, and falls to any lower count.
        let old = BASELINE.load(Ordering::Relaxed);
        let base = match old {
            u64::MAX => after,
            old => after.min(old.saturating_add(BASELINE_RISE)),
        };
        BASELINE.store(base, Ordering::Relaxed);
    }
}

/// Granularity of the exposure accounting.
const BLOCK: u64 = 2 << 20;

/// A read-only map of a whole data file, with the blocks reads exposed
/// since its pages were last dropped.
#[derive(Debug)]
pub struct MappedFile(memmap2::Mmap, Mutex<Vec<u64>>);

impl MappedFile {
    /// Wrap a read-only map.
    pub fn new(map: memmap2::Mmap) -> MappedFile {
        if BASELINE.load(Ordering::Relaxed) == u64::MAX {
            if let Some(now) = resident_file_bytes() {
                BASELINE.store(now, Ordering::Relaxed);
            }
        }
        let blocks = (map.len() as u64).div_ceil(BLOCK).div_ceil(64) as usize;
        MappedFile(map, Mutex::new(vec![0; blocks]))
    }

    /// Note that a read touched bytes spread over `lo..hi` of the file; drop
    /// the pages of every cached map once the maps hold more than the
    /// budget (counted when the blocks newly exposed pass it).
    pub fn exposed(&self, lo: u64, hi: u64) {
        note_exposed(self.mark(lo, hi));
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

    /// Count every block as not yet exposed.
    fn forget_marks(&self) {
        if let Some(mut bits) = crate::cache::lock_briefly(&self.1) {
            bits.fill(0);
        }
    }

    fn drop_pages(&self) {
        self.forget_marks();
        // SAFETY: the map is a shared, read-only map of a file: dropping its
        // pages changes no data (a later access, also one racing in another
        // thread, faults the same bytes back from the page cache).
        let _ = unsafe { self.0.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
    }
}

impl Drop for MappedFile {
    /// What this map exposed leaves the count with it: a process that maps
    /// file after file (each read once, the caches cleared between) would
    /// otherwise pass the budget every few reads and count its resident
    /// pages in `/proc` each time, for maps that are gone.
    fn drop(&mut self) {
        let bits = self.1.get_mut().unwrap_or_else(|p| p.into_inner());
        let gone = bits.iter().map(|w| u64::from(w.count_ones())).sum::<u64>() * BLOCK;
        // The closure always gives a value: the update cannot fail.
        let _ = EXPOSED.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |e| {
            Some(e.saturating_sub(gone))
        });
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

    /// The only test of this crate's unit tests that exposes anything: the
    /// count it reads is not moved by another test running beside it.
    #[test]
    fn a_map_dropped_takes_what_it_exposed_off_the_count() {
        let file = tempfile::tempfile().unwrap();
        file.set_len(9 << 20).unwrap();
        // SAFETY: test-only map of a private temporary file.
        let map = MappedFile::new(unsafe { memmap2::Mmap::map(&file).unwrap() });
        let before = EXPOSED.load(Ordering::Relaxed);
        map.exposed(1 << 20, 5 << 20);
        map.exposed(0, 1 << 20);
        assert_eq!(EXPOSED.load(Ordering::Relaxed), before + 3 * BLOCK);
        drop(map);
        assert_eq!(EXPOSED.load(Ordering::Relaxed), before);
    }
}
