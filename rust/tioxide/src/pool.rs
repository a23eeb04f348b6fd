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
//!
//! Patches are the same story at a smaller size: a patch queue reads a
//! 1 MiB patch, stacks it into a batch and drops it, thousands of times; a
//! fresh megabyte costs 256 page faults, ten times the copy of the patch.
//! So up to 32 MiB of buffers from 64 KiB up to 16 MiB are
//! kept too, and handed to reads of about their size.

use std::sync::Mutex;

use crate::cache::lock_briefly;
use crate::pages;

/// Smallest buffer worth keeping, in bytes.
pub(crate) const KEEP_FROM: usize = 16 << 20;
/// Largest buffer kept, in bytes.
const KEEP_UP_TO: usize = 256 << 20;

static SPARE: Mutex<Option<Vec<u64>>> = Mutex::new(None);

/// Smallest buffer worth keeping among the small ones, in bytes.
const SMALL_FROM: usize = 64 << 10;
/// Most bytes of small buffers kept.
const SMALL_KEEP: usize = 32 << 20;
/// Small buffers kept, the most recently given back last.
static SMALL: Mutex<Vec<Vec<u64>>> = Mutex::new(Vec::new());

/// Bytes the small buffers `small` hold.
fn bytes_of(small: &[Vec<u64>]) -> usize {
    small.iter().map(|w| w.capacity() * 8).sum()
}

/// Give back a buffer nothing uses any more (the storage of an array the
/// caller owned). Kept if its size is in range, replacing the spare (or,
/// if small, the oldest small ones it needs room for).
pub fn recycle(mut words: Vec<u64>) {
    let bytes = words.capacity() * 8;
    if (SMALL_FROM..KEEP_FROM).contains(&bytes) {
        words.clear();
        let Some(mut small) = lock_briefly(&SMALL) else {
            return;
        };
        let mut held = bytes_of(&small);
        let mut dropped = Vec::new();
        while held + bytes > SMALL_KEEP && !small.is_empty() {
            let old = small.remove(0);
            held -= old.capacity() * 8;
            dropped.push(old);
        }
        small.push(words);
        drop(small);
        drop(dropped); // freed outside the lock
        return;
    }
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
    let fits = |s: &Vec<u64>| s.capacity() >= words && s.capacity() <= words + words / 4;
    if words * 8 < KEEP_FROM {
        let mut small = lock_briefly(&SMALL)?;
        let at = small.iter().rposition(fits)?;
        return Some(small.swap_remove(at));
    }
    let mut spare = lock_briefly(&SPARE)?;
    if spare.as_ref().is_some_and(fits) {
        spare.take()
    } else {
        None
    }
}

/// Free the spare.
pub fn clear() {
    let old = lock_briefly(&SPARE).and_then(|mut spare| spare.take());
    drop(old);
    let small = lock_briefly(&SMALL).map(|mut small| std::mem::take(&mut *small));
    drop(small);
}

/// Bytes held by the spare.
pub fn held() -> usize {
    let spare = lock_briefly(&SPARE)
        .and_then(|spare| spare.as_ref().map(Vec::capacity))
        .map_or(0, |words| words * 8);
    let small = lock_briefly(&SMALL).map_or(0, |small| bytes_of(&small));
    spare + small
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn keeps_small_buffers_up_to_a_budget_and_hands_out_fits() {
        // One test touches the pool: the tests of a binary share it.
        keeps_one_buffer_in_range_and_hands_it_to_a_similar_read();
        clear();
        let mib = (1 << 20) / 8;
        for _ in 0..70 {
            recycle(vec![7u64; mib]);
        }
        assert_eq!(held(), SMALL_KEEP); // the oldest went
        let got = take(mib - 100).expect("a fit");
        assert!(got.is_empty() && got.capacity() == mib);
        assert!(take(mib / 2).is_none()); // a megabyte is too big for it
        assert!(take(2 * mib).is_none());
        assert_eq!(held(), SMALL_KEEP - (1 << 20));
        clear();
        assert_eq!(held(), 0);
    }
}
