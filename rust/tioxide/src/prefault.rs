//! Faulting in fresh output memory on a second core while the first fills it.
//!
//! Writing a freshly allocated volume costs a page fault per page, in which
//! the kernel zeroes the page (and, in a virtual machine that hands freed
//! memory back to its host, the host backs it again: slower than the inflate
//! itself for huge pages). `MADV_POPULATE_WRITE` does that work without
//! touching the contents, so a helper thread can run it ahead of an inflate
//! that writes the same buffer front to back, and the faults cost no time.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::pages;

/// Step of the helper: small enough to stay ahead of the writer from the
/// start, large enough to keep system calls rare.
const STEP: usize = 1 << 20;

/// Below this, the two threads' faults contend for the page tables more
/// than the helper saves (an 11 MiB label map: 2.0 ms alone, 2.9 ms with it).
const WORTH_IT: usize = 32 << 20;

/// Run `work`, which writes `[ptr, ptr + len)` front to back, while another
/// thread faults that range in (when there is a second core to run it, the
/// range is worth it, and the kernel knows `MADV_POPULATE_WRITE`).
pub fn while_populating<R>(ptr: *mut u8, len: usize, work: impl FnOnce() -> R) -> R {
    if len < WORTH_IT || crate::gz::threads() < 2 {
        return work();
    }
    // Page-aligned steps inside the range: the first and last partial
    // pages are left to the writer.
    let Some((first, end)) = pages::interior(ptr, len, pages::PAGE) else {
        return work();
    };
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut at = first;
            while at < end && !done.load(Ordering::Relaxed) {
                let n = STEP.min(end - at);
                // SAFETY: [at, at + n) lies inside the caller's live buffer
                // (`work` keeps it alive until this scope ends). The advice
                // only creates page table entries for writing; it never
                // reads or changes the bytes, so it cannot race with the
                // writer's stores. Failure (an old kernel) just stops us.
                let ok = unsafe {
                    pages::advise(at as *mut u8, n, pages::PAGE, libc::MADV_POPULATE_WRITE)
                };
                if !ok {
                    break;
                }
                at += n;
            }
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        result
    })
}
