//! Read-only maps of plain data files, kept between region reads, with the
//! memory they hold bounded. On a fault the kernel maps the whole page-cache
//! folio around the page (often hundreds of KiB), so a map's resident pages
//! grow with every read, count against the process, and stay until it is
//! unmapped. Reads note the span of bytes they may have brought in; past a
//! budget, every cached map drops its pages (the page cache keeps them, so
//! the next read faults them back in cheaply).

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::cache::MAPS;

/// Bytes reads may expose through maps before their pages are dropped.
const BUDGET: u64 = 64 << 20;

static EXPOSED: AtomicU64 = AtomicU64::new(0);

/// A read-only map of a whole data file.
#[derive(Debug)]
pub struct MappedFile(memmap2::Mmap);

impl MappedFile {
    /// Wrap a read-only map.
    pub fn new(map: memmap2::Mmap) -> MappedFile {
        MappedFile(map)
    }

    fn drop_pages(&self) {
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

/// Note that a read through a map touched bytes spread over `span`; drop
/// the pages of every cached map once the total passes the budget.
pub fn exposed(span: u64) {
    if EXPOSED
        .fetch_add(span, Ordering::Relaxed)
        .saturating_add(span)
        > BUDGET
    {
        EXPOSED.store(0, Ordering::Relaxed);
        MAPS.for_each(|map: &Arc<MappedFile>| map.drop_pages());
    }
}
