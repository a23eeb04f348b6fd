//! Spare voxel buffers, kept when large ones are given back, for the next
//! whole-volume reads.
//!
//! A whole-volume read into fresh memory pays a page fault and the zeroing
//! of every page (a third of a `.nii` load, more in a virtual machine whose
//! host has taken the pages back). A training loop loads a volume, drops it,
//! loads the next: reusing the last volume's memory skips all of that. Up to
//! three buffers are kept, 1 GiB in all (a patch queue holds a subject
//! being cut while its two worker threads inflate the next two; with one
//! spare, half of their inflates got fresh memory), each between 16 MiB and
//! 1 GiB (a 512³ float32 volume, 512 MiB, is read from the page cache in
//! 54 ms into a spare, 110 ms into fresh memory whose zeroing is most of the
//! time), and the pages of all but the newest are marked `MADV_FREE`
//! (see `free_lazily`): the kernel takes them back if it needs memory (the
//! next read then faults them in again, as it would have anyway). Large
//! buffers are allocated in whole 2 MiB steps (`large_words`), so that
//! volumes of one shape, whose in-place inflate scratch differs by a few
//! bytes with each file's compressed size, fit each other's buffers.
//!
//! Patches are the same story at a smaller size: a patch queue reads a
//! 1 MiB patch, stacks it into a batch and drops it, thousands of times; a
//! fresh megabyte costs 256 page faults, ten times the copy of the patch.
//! So up to 32 MiB of buffers from 64 KiB up to 16 MiB are
//! kept too, and handed to reads of about their size.

use std::sync::Mutex;
use std::thread::ThreadId;

use crate::cache::lock_briefly;
use crate::pages;

/// Smallest buffer worth keeping, in bytes.
pub(crate) const KEEP_FROM: usize = 16 << 20;
/// Largest buffer kept, in bytes.
const KEEP_UP_TO: usize = 1 << 30;

/// Large buffers kept at most.
const LARGE_KEEP: usize = 3;

/// Step of large buffers' sizes, in bytes (a huge page).
const LARGE_STEP: usize = 2 << 20;

/// Large spares, the most recently given back last.
static SPARE: Mutex<Vec<Vec<u64>>> = Mutex::new(Vec::new());

/// Words to allocate for a buffer of at least `words`: large ones rounded
/// up to a whole [`LARGE_STEP`] (their pages past what is written are never
/// touched, so the rounding costs address space only).
pub(crate) fn large_words(words: usize) -> usize {
    let step = LARGE_STEP / 8;
    if words.saturating_mul(8) < KEEP_FROM {
        return words;
    }
    words.div_ceil(step).saturating_mul(step)
}

/// Smallest buffer worth keeping among the small ones, in bytes.
const SMALL_FROM: usize = 64 << 10;
/// Most bytes of small buffers kept.
const SMALL_KEEP: usize = 32 << 20;
/// Small buffers kept, the most recently given back last.
static SMALL: Mutex<Vec<Vec<u64>>> = Mutex::new(Vec::new());

/// Bytes the buffers `bufs` hold.
fn bytes_of<T>(bufs: &[Vec<T>]) -> usize {
    bufs.iter().map(|b| b.capacity() * size_of::<T>()).sum()
}

/// Keep `buf` at the end of `list` (the most recently given back last),
/// dropping the oldest until all of them hold at most `budget` bytes. Never
/// waited on: a forked child whose parent held the lock frees `buf` instead.
fn keep_within<T>(list: &Mutex<Vec<Vec<T>>>, buf: Vec<T>, budget: usize) {
    let Some(mut kept) = lock_briefly(list) else {
        return;
    };
    let bytes = buf.capacity() * size_of::<T>();
    let mut held = bytes_of(&kept);
    let mut dropped = Vec::new();
    while held + bytes > budget && !kept.is_empty() {
        let old = kept.remove(0);
        held -= old.capacity() * size_of::<T>();
        dropped.push(old);
    }
    kept.push(buf);
    drop(kept);
    drop(dropped); // freed outside the lock
}

/// The most recently given back buffer of `list` that `fits`, taken out.
fn take_fit<T>(list: &Mutex<Vec<Vec<T>>>, fits: impl Fn(&Vec<T>) -> bool) -> Option<Vec<T>> {
    let mut kept = lock_briefly(list)?;
    let at = kept.iter().rposition(fits)?;
    Some(kept.swap_remove(at))
}

/// Give back a buffer nothing uses any more (the storage of an array the
/// caller owned). Kept if its size is in range, replacing the oldest spare
/// of its kind when there are too many (or, if small, the oldest small ones
/// it needs room for).
pub fn recycle(words: Vec<u64>) {
    let bytes = words.capacity() * 8;
    if (SMALL_FROM..KEEP_FROM).contains(&bytes) {
        keep_within(&SMALL, words, SMALL_KEEP);
        return;
    }
    if !(KEEP_FROM..=KEEP_UP_TO).contains(&bytes) {
        return;
    }
    // Never waited on: a forked child whose parent held the lock at the
    // fork frees the buffer instead of hanging.
    let Some(mut spare) = lock_briefly(&SPARE) else {
        return;
    };
    // The newest spare is left as it is: in a loop, the next read of its
    // size comes within moments and takes it. The one it replaces as the
    // newest is marked now, so that the kernel may take the older ones back.
    if let Some(previous) = spare.last_mut() {
        free_lazily(previous);
    }
    spare.push(words);
    let mut old = Vec::new();
    while spare.len() > LARGE_KEEP || bytes_of(&spare) > KEEP_UP_TO {
        old.push(spare.remove(0));
    }
    drop(spare);
    drop(old); // freed outside the lock
}

/// Mark the pages of a spare `MADV_FREE`: the kernel takes them back if it
/// needs memory (the next read then faults them in, as it would have
/// anyway). Not done to the newest spare: marking clears the pages' dirty
/// bits, and where they are not huge pages, writing each of them again
/// costs more than the copy into it (a 44 MiB `.nii` read into a marked
/// spare backed by 4 KiB pages: 15.6 ms against 8.9 ms unmarked; with huge
/// pages, no difference). Without huge pages (disabled, or memory too
/// fragmented for them) a training loop's every read would pay that.
fn free_lazily(words: &mut Vec<u64>) {
    let bytes = words.capacity() * 8;
    // SAFETY: the range is the spare's whole allocation, which only the
    // pool holds (the caller holds its lock): nothing uses it. MADV_FREE
    // may replace its pages by zero pages: the words the Vec holds stay
    // initialised (to their values or to zero), which is all that a reader
    // of a spare (`VoxelBuffer::for_overwrite`) may assume. Failure is
    // harmless (ignored).
    unsafe {
        pages::advise(
            words.as_mut_ptr().cast(),
            bytes,
            pages::PAGE,
            libc::MADV_FREE,
        )
    };
}

/// Give back the storage of an array that died. A buffer that a
/// whole-volume read filled on this same thread, without zeroing it first,
/// goes back to the allocator if it is under 16 MiB (`KEEP_FROM`): the allocator
/// hands that memory, still in the cache, to the thread's next allocation,
/// whereas a spare in the pool waits until the next read of that size and
/// is cold by then (an 11 MiB label map read after any other work took
/// 1.3-1.4x libdeflate's time into a spare, 1.0-1.1x into the allocator's
/// memory). A buffer that crossed threads (a queue's worker read it, the
/// training loop dropped it) is kept as [`recycle`] says: glibc returns
/// memory to the arena of the thread that allocated it, which then trims
/// it away, so the worker's next read would fault in fresh pages. So is a
/// buffer of another kind: a region read zeroes its fresh memory, which
/// costs more than reusing a spare.
pub fn give_back(words: Vec<u64>, filled_on: Option<ThreadId>) {
    let small = words.capacity().saturating_mul(8) < KEEP_FROM;
    if small && filled_on == Some(std::thread::current().id()) {
        return;
    }
    recycle(words);
}

/// A spare that holds at least `words` and not much more (a Vec with that
/// capacity, still holding the words of its last use: overwrite or clear
/// them), the most recently given back first.
pub(crate) fn take(words: usize) -> Option<Vec<u64>> {
    let fits = |s: &Vec<u64>| s.capacity() >= words && s.capacity() <= words + words / 4;
    if words * 8 < KEEP_FROM {
        return take_fit(&SMALL, fits);
    }
    let mut spare = lock_briefly(&SPARE)?;
    let at = spare.iter().rposition(fits)?;
    Some(spare.remove(at))
}

/// Byte buffers of inflated `.nii.gz` chunks the chunk cache let go, the
/// most recently given back last. The first read of a file keeps the chunks
/// its index build passes that the read needs (half a MiB each, or a few
/// MiB where deflate blocks are long); in fresh memory, their page faults
/// were 60% of a first 32³ patch (10,000 faults, 26-34 ms).
static CHUNK_BYTES: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Most bytes of chunk buffers kept: enough for the chunks of a 32-slice
/// patch of a 512² float32 volume (32 MiB of output, in buffers up to a
/// quarter larger). With 32 MiB, a third of them missed and were faulted
/// in afresh: the first 32³ patch at the start of the 512³ `.nii.gz` took
/// 7-9 ms, against 5.4-5.6 ms with 64 MiB.
const CHUNK_BYTES_KEEP: usize = 64 << 20;

/// A copy of `bytes` in a chunk buffer given back (one of at least its
/// length and at most a quarter more: the chunk cache counts capacity),
/// else in fresh memory.
pub(crate) fn chunk_copy(bytes: &[u8]) -> Vec<u8> {
    let n = bytes.len();
    let mut buf = take_chunk(n, n + n / 4).unwrap_or_else(|| Vec::with_capacity(n));
    buf.extend_from_slice(bytes);
    buf
}

/// A chunk buffer given back whose capacity is `least..=most` bytes, emptied.
fn take_chunk(least: usize, most: usize) -> Option<Vec<u8>> {
    let fits = |b: &Vec<u8>| (least..=most).contains(&b.capacity());
    let mut buf = take_fit(&CHUNK_BYTES, fits)?;
    buf.clear();
    Some(buf)
}

/// An empty buffer for the index build to inflate a chunk into, with
/// capacity for `len` bytes: a chunk buffer given back that holds at least
/// that and at most `most` bytes, else a fresh one a quarter larger
/// (chunks run a span, then to the next block end: after a chunk of `len`
/// bytes, the next one is seldom longer by that much).
pub(crate) fn chunk_buffer(len: usize, most: usize) -> Vec<u8> {
    take_chunk(len, most).unwrap_or_else(|| Vec::with_capacity(len + len / 4))
}

/// Give back the buffer of a chunk nothing uses any more: kept if there is
/// room, the oldest going first.
pub(crate) fn recycle_chunk(buf: Vec<u8>) {
    if (SMALL_FROM..KEEP_FROM).contains(&buf.capacity()) {
        keep_within(&CHUNK_BYTES, buf, CHUNK_BYTES_KEEP);
    }
}

/// Free the spares.
pub fn clear() {
    let old = lock_briefly(&SPARE).map(|mut spare| std::mem::take(&mut *spare));
    drop(old);
    let small = lock_briefly(&SMALL).map(|mut small| std::mem::take(&mut *small));
    drop(small);
    let chunks = lock_briefly(&CHUNK_BYTES).map(|mut kept| std::mem::take(&mut *kept));
    drop(chunks);
}

/// Bytes held by the spares.
pub fn held() -> usize {
    let spare = lock_briefly(&SPARE).map_or(0, |spare| bytes_of(&spare));
    let small = lock_briefly(&SMALL).map_or(0, |small| bytes_of(&small));
    let chunks = lock_briefly(&CHUNK_BYTES).map_or(0, |kept| bytes_of(&kept));
    spare + small + chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keeps_three_buffers_in_range_and_hands_them_to_similar_reads() {
        clear();
        recycle(Vec::with_capacity(1 << 10)); // too small
        assert_eq!(held(), 0);
        let mib = (1 << 20) / 8;
        recycle(Vec::with_capacity(32 * mib));
        assert_eq!(held(), 32 << 20);
        assert!(take(33 * mib).is_none()); // too small for it
        assert!(take(8 * mib).is_none()); // far too big
        let spare = take(30 * mib).expect("a fit");
        assert!(spare.is_empty() && spare.capacity() == 32 * mib);
        assert_eq!(held(), 0);
        recycle(Vec::with_capacity(1100 * mib)); // too large to keep
        assert_eq!(held(), 0);
        // Three kept; a fourth pushes out the oldest; the newest fit goes first.
        for size in [40, 41, 42, 43] {
            recycle(Vec::with_capacity(size * mib));
        }
        assert_eq!(held(), (41 + 42 + 43) << 20);
        assert_eq!(take(40 * mib).map(|w| w.capacity()), Some(43 * mib));
        assert_eq!(take(40 * mib).map(|w| w.capacity()), Some(42 * mib));
        assert_eq!(take(40 * mib).map(|w| w.capacity()), Some(41 * mib));
        assert!(take(40 * mib).is_none());
        // No more than 1 GiB in all: the oldest go first.
        for size in [400, 350, 300] {
            recycle(Vec::with_capacity(size * mib));
        }
        assert_eq!(held(), (350 + 300) << 20);
    }

    #[test]
    fn large_sizes_round_to_whole_huge_pages() {
        let mib = (1 << 20) / 8;
        assert_eq!(large_words(1000), 1000); // small: as asked
        assert_eq!(large_words(16 * mib), 16 * mib);
        assert_eq!(large_words(16 * mib + 1), 18 * mib);
        // Volumes of one shape whose scratch differs by a few bytes share a size.
        assert_eq!(large_words(44 * mib + 300), large_words(44 * mib + 40));
        assert_eq!(
            large_words(usize::MAX / 8),
            usize::MAX / 8 / (2 * mib) * (2 * mib) + 2 * mib
        );
    }

    #[test]
    fn keeps_small_buffers_up_to_a_budget_and_hands_out_fits() {
        // One test touches the pool: the tests of a binary share it.
        keeps_three_buffers_in_range_and_hands_them_to_similar_reads();
        clear();
        let mib = (1 << 20) / 8;
        for _ in 0..70 {
            recycle(vec![7u64; mib]);
        }
        assert_eq!(held(), SMALL_KEEP); // the oldest went
        let got = take(mib - 100).expect("a fit");
        // Handed out as it was given back: its words are still there.
        assert!(got.len() == mib && got.capacity() == mib && got.iter().all(|&w| w == 7));
        assert!(take(mib / 2).is_none()); // a megabyte is too big for it
        assert!(take(2 * mib).is_none());
        assert_eq!(held(), SMALL_KEEP - (1 << 20));
        clear();
        assert_eq!(held(), 0);
        spares_are_overwritten_not_zeroed_and_their_missing_tail_zeroed();
        chunk_buffers_serve_chunks_of_about_their_size_up_to_a_budget();
        small_fills_given_back_on_their_thread_go_to_the_allocator();
    }

    fn small_fills_given_back_on_their_thread_go_to_the_allocator() {
        use crate::buffer::VoxelBuffer;
        clear();
        let mib = (1 << 20) / 8;
        let here = Some(std::thread::current().id());
        let there = std::thread::spawn(|| std::thread::current().id())
            .join()
            .ok();
        assert!(there.is_some() && there != here);
        give_back(vec![1u64; 4 * mib], here); // filled here: freed
        assert_eq!(held(), 0);
        give_back(vec![2u64; 4 * mib], there); // crossed threads: kept
        assert_eq!(held(), 4 << 20);
        give_back(vec![3u64; 4 * mib], None); // a region read's: kept
        assert_eq!(held(), 8 << 20);
        give_back(vec![4u64; 2 * KEEP_FROM / 8], here); // large: kept
        assert_eq!(held(), (8 << 20) + 2 * KEEP_FROM);
        // A whole-volume fill on this thread carries the thread along.
        // SAFETY: the fill writes every byte it is asked for.
        let filled = unsafe {
            VoxelBuffer::filled_with(4 << 20, |p, n| {
                std::ptr::write_bytes(p, 9, n);
                Ok(())
            })
        };
        assert_eq!(filled.map(|b| b.filled_on()).ok(), Some(here));
        let zeroed = VoxelBuffer::zeroed(4 << 20).map(|b| b.filled_on()).ok();
        assert_eq!(zeroed, Some(None));
        clear();
    }

    fn chunk_buffers_serve_chunks_of_about_their_size_up_to_a_budget() {
        clear();
        let kib = 1 << 10;
        recycle_chunk(vec![1u8; 512 * kib]);
        recycle_chunk(vec![1u8; 32 * kib]); // too small to keep
        assert_eq!(held(), 512 * kib);
        // Too small a chunk for it (it would waste over a fifth): fresh.
        let small = chunk_copy(&[2u8; 400 << 10]);
        assert_eq!((small.len(), held()), (400 * kib, 512 * kib));
        // A fit: the spare holds the copy, whatever it held before.
        let data: Vec<u8> = (0..420 * kib).map(|i| (i % 251) as u8).collect();
        let copy = chunk_copy(&data);
        assert!(copy == data && copy.capacity() == 512 * kib);
        assert_eq!(held(), 0);
        // An empty buffer for the index build: one given back of a capacity
        // in range, else a fresh one a quarter larger than asked.
        recycle_chunk(vec![3u8; 600 * kib]);
        for (n, most) in [(601 * kib, usize::MAX), (200 * kib, 599 * kib)] {
            assert_eq!(chunk_buffer(n, most).capacity(), n + n / 4);
            assert_eq!(held(), 600 * kib);
        }
        let reused = chunk_buffer(300 * kib, 600 * kib);
        assert!(reused.is_empty() && reused.capacity() == 600 * kib);
        assert_eq!(held(), 0);
        // At most CHUNK_BYTES_KEEP, the oldest going first.
        for _ in 0..(CHUNK_BYTES_KEEP >> 20) + 8 {
            recycle_chunk(Vec::with_capacity(1 << 20));
        }
        assert_eq!(held(), CHUNK_BYTES_KEEP);
        clear();
        assert_eq!(held(), 0);
    }

    fn spares_are_overwritten_not_zeroed_and_their_missing_tail_zeroed() {
        use crate::buffer::VoxelBuffer;
        let mib = (1 << 20) / 8;
        // A spare longer than asked: cut to size, its values as they were.
        recycle(vec![7u64; mib]);
        let b = VoxelBuffer::for_overwrite(8, mib * 8 - 808).unwrap();
        assert_eq!((b.offset(), b.len()), (8, mib * 8 - 808));
        assert!(b.as_slice::<u64>().unwrap().iter().all(|&w| w == 7));
        // A spare whose last use was shorter: its words kept, the rest zero.
        let mut half = vec![9u64; mib / 2];
        half.reserve_exact(mib - half.len());
        recycle(half);
        let b = VoxelBuffer::for_overwrite(0, mib * 8).unwrap();
        let words = b.as_slice::<u64>().unwrap();
        assert!(words[..mib / 2].iter().all(|&w| w == 9));
        assert!(words[mib / 2..].iter().all(|&w| w == 0));
        // No spare: fresh zeroed memory.
        clear();
        let b = VoxelBuffer::for_overwrite(0, mib * 8).unwrap();
        assert!(b.as_slice::<u64>().unwrap().iter().all(|&w| w == 0));
        // A storage from the pool for a fill (`filled_with`) starts empty:
        // recycling keeps lengths, taking for a fill clears them.
        recycle(vec![5u64; mib]);
        // SAFETY: the fill writes all `mib * 8` bytes.
        let b = unsafe {
            VoxelBuffer::filled_with(mib * 8, |p, n| {
                std::ptr::write_bytes(p, 1, n);
                Ok(())
            })
        }
        .unwrap();
        assert!(b.bytes().iter().all(|&x| x == 1));
        clear();
    }
}
