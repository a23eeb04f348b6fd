//! Advice to the kernel about the whole pages inside a buffer.

/// Size of a page.
pub(crate) const PAGE: usize = 4096;

/// The `align`-aligned part of `[ptr, ptr + len)`, as `(start, end)`
/// addresses, if it is not empty: the part `madvise` may be given.
pub(crate) fn interior(ptr: *const u8, len: usize, align: usize) -> Option<(usize, usize)> {
    let start = (ptr as usize).next_multiple_of(align);
    let end = (ptr as usize + len) / align * align;
    (end > start).then_some((start, end))
}

/// `madvise(advice)` on the `align`-aligned part of `[ptr, ptr + len)`;
/// false if the kernel refused it.
///
/// # Safety
///
/// The range must lie inside one live allocation of the caller. With an
/// advice that may drop contents (`MADV_DONTNEED`, `MADV_FREE`), nothing in
/// the aligned part may be read again before it is written.
pub(crate) unsafe fn advise(ptr: *mut u8, len: usize, align: usize, advice: libc::c_int) -> bool {
    let Some((start, end)) = interior(ptr, len, align) else {
        return true;
    };
    // SAFETY: the caller's promise, for an aligned range inside its range.
    unsafe { libc::madvise(start as *mut libc::c_void, end - start, advice) == 0 }
}
