//! One spare voxel buffer, kept when a large one is given back, for the
//! next whole-volume read.
//!
//! A whole-volume read into fresh memory pays a page fault and the zeroing
//! of every page (a third of a `.nii` load, more in a virtual machine whose
//! host has taken the pages back). A training loop loads a volume, drops it,
//! loads the next: reusing the last volume's memory skips all of that. Only
//! one buffer is kept, only between 16 and 256 MiB, and its pages are marked
//! `MADV_FREE`: the kernel takes them back if it needs memory (the next read
//! then faults them in again, as it would have anyway).

use std::sync::Mutex;

use crate::cache::lock_briefly;
use crate::pages;

/// Smallest buffer worth keeping, in bytes.
const KEEP_FROM: usize = 16 << 20;
/// Largest buffer kept, in bytes.
const KEEP_UP_TO: usize = 256 << 20;

static SPARE: Mutex<Option<Vec<u64>>> = Mutex::new(None);

/// Give back a buffer nothing uses any more (the storage of an array the
/// caller owned). Kept if its size is in range, replacing the spare.
pub fn recycle(mut words: Vec<u64>) {
    let bytes = words.capacity() * 8;
    if !(KEEP_FROM..=KEEP_UP_TO).contains(&bytes) {
        return;
    }
    words.clear();
    // SAFETY: the range is the buffer's whole allocation, which holds no
    // live data (cleared; only ever refilled in whole before being read).
    // MADV_FREE lets the kernel reclaim its pages when it needs memory,
    // replacing them by zero pages; failure is harmless (ignored).
    unsafe {
        pages::advise(
            words.as_mut_ptr().cast(),
            bytes,
            pages::PAGE,
            libc::MADV_FREE,
        )
    };
    // Never waited on: a forked child whose parent held the lock at the
    // fork frees the buffer instead of hanging.
    let Some(mut spare) = lock_briefly(&SPARE) else {
        return;
    };
    let old = spare.replace(words);
    drop(spare);
    drop(old); // freed outside the lock
}

/// The spare, if it holds at least `words` and not much more (an empty Vec
/// with that capacity).
pub(crate) fn take(words: usize) -> Option<Vec<u64>> {
    let mut spare = lock_briefly(&SPARE)?;
    let fits = spare
        .as_ref()
        .is_some_and(|s| s.capacity() >= words && s.capacity() <= words + words / 4);
    if fits {
        spare.take()
    } else {
        None
    }
}

/// Free the spare.
pub fn clear() {
    let old = lock_briefly(&SPARE).and_then(|mut spare| spare.take());
    drop(old);
}

/// Bytes held by the spare.
pub fn held() -> usize {
    lock_briefly(&SPARE)
        .and_then(|spare| spare.as_ref().map(Vec::capacity))
        .map_or(0, |words| words * 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_one_buffer_in_range_and_hands_it_to_a_similar_read() {
        clear();
        recycle(Vec::with_capacity(1 << 10)); // too small
        assert_eq!(held(), 0);
        recycle(Vec::with_capacity((32 << 20) / 8));
        assert_eq!(held(), 32 << 20);
        assert!(take((33 << 20) / 8).is_none()); // too small for it
        assert!(take((8 << 20) / 8).is_none()); // far too big
        let spare = take((30 << 20) / 8).expect("a fit");
        assert!(spare.is_empty() && spare.capacity() == (32 << 20) / 8);
        assert_eq!(held(), 0);
        recycle(Vec::with_capacity((300 << 20) / 8)); // too large to keep
        assert_eq!(held(), 0);
    }
}
