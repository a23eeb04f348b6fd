//! Owned voxel buffers with 8-byte alignment.
//!
//! Buffers are backed by `Vec<u64>` so that any NIfTI element type can be
//! viewed in place (numpy, `bytemuck`) without a copy, whatever the
//! allocator. A buffer may start with a prefix (a decompressed header) that
//! is skipped by `offset`, which saves moving the voxels after inflating a
//! whole `.nii.gz` in one call.

use std::thread::ThreadId;

use crate::error::{Error, Result};
use crate::pages;

fn oom(bytes: usize) -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::OutOfMemory,
        format!("cannot allocate {bytes} bytes for the voxels"),
    ))
}

/// `vec![0u64; n]` that reports allocation failure instead of aborting,
/// keeping calloc's lazily zeroed pages (no up-front memset).
fn zeroed_words(n: usize) -> Option<Vec<u64>> {
    if n == 0 {
        return Some(Vec::new());
    }
    // A patch-sized buffer given back by an earlier read: zeroing memory
    // already mapped costs a tenth of faulting in fresh pages.
    if n * 8 < crate::pool::KEEP_FROM {
        if let Some(mut words) = crate::pool::take(n) {
            words.clear();
            words.resize(n, 0);
            return Some(words);
        }
    }
    let layout = std::alloc::Layout::array::<u64>(n).ok()?;
    // SAFETY: layout has non-zero size (n > 0). The pointer comes from the
    // global allocator with the layout of `n` u64s, all zero-initialised,
    // which is exactly what Vec::from_raw_parts(ptr, n, n) requires.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout).cast::<u64>();
        if ptr.is_null() {
            return None;
        }
        advise_huge_pages(ptr.cast(), n * 8);
        Some(Vec::from_raw_parts(ptr, n, n))
    }
}

/// Ask for transparent huge pages on the 2 MiB-aligned interior of a large
/// fresh buffer: filling it then costs one page fault per 2 MiB instead of
/// one per 4 KiB (a third of the time of a full `.nii` read).
fn advise_huge_pages(ptr: *mut u8, len: usize) {
    const HUGE: usize = 2 << 20;
    if len >= 4 * HUGE {
        // SAFETY: the range is the allocation just made; the advice only
        // changes how the kernel backs its pages, never their contents, and
        // its failure is harmless (ignored).
        unsafe { pages::advise(ptr, len, HUGE, libc::MADV_HUGEPAGE) };
    }
}

/// Storage for about `words` words to overwrite: the spare buffer of the
/// last large array given back ([`crate::pool`]), else nothing yet (the
/// caller reserves).
fn reusable(words: usize) -> Vec<u64> {
    let mut spare = crate::pool::take(words).unwrap_or_default();
    spare.clear();
    spare
}

/// `n` initialised words whose values do not matter, for a caller that
/// overwrites them all: a spare from the pool as it is (a large volume's
/// pages are already mapped, where fresh ones would each be faulted in and
/// zeroed: a tenth of an indexed `.nii.gz` load on two cores), its missing
/// tail zeroed; else fresh zeroed memory.
fn overwritable_words(n: usize) -> Option<Vec<u64>> {
    match crate::pool::take(n) {
        Some(mut words) => {
            words.truncate(n);
            words.resize(n, 0);
            Some(words)
        }
        None => zeroed_words(n),
    }
}

/// Spare capacity kept resident after an in-place fill, in bytes. An
/// inflate's scratch (the compressed file read to the buffer's tail) lies
/// there; given back, its pages fault in again when the pool hands the
/// buffer to the next read (50 faults, 5% of an 11 MiB label map's load).
/// Kept, they cost at most this much memory while the array lives.
const SPARE_KEPT: usize = 1 << 20;

/// Give the pages past the Vec's length and the first [`SPARE_KEPT`] bytes
/// after it back to the kernel, keeping the capacity: a reallocation to
/// shrink it could copy the whole buffer, and the pool hands whole
/// allocations on to the next read of the same size.
fn release_spare_capacity(words: &mut Vec<u64>) {
    let spare = words.spare_capacity_mut();
    let kept = spare.len().min(SPARE_KEPT / 8);
    let spare = &mut spare[kept..];
    // SAFETY: the range is part of the Vec's spare capacity, inside its
    // allocation and past every initialised word: nothing reads it before
    // writing it. MADV_DONTNEED only turns those pages back into zero
    // pages; failure is harmless (ignored).
    unsafe {
        pages::advise(
            spare.as_mut_ptr().cast(),
            spare.len() * 8,
            pages::PAGE,
            libc::MADV_DONTNEED,
        )
    };
}

/// Size from which [`VoxelBuffer::filled_in_place`] uses 4 KiB pages.
pub const SMALL_PAGES_FROM: usize = 256 << 20;

/// An aligned byte buffer holding `len` voxel bytes from `offset`.
#[derive(Debug, Clone, Default)]
pub struct VoxelBuffer {
    words: Vec<u64>,
    offset: usize,
    len: usize,
    /// The thread whose whole-volume read filled the words without zeroing
    /// them first (see [`crate::pool::give_back`]).
    filled_on: Option<ThreadId>,
}

/// Equal words, offset and length: where a buffer was filled is not part of its value.
impl PartialEq for VoxelBuffer {
    fn eq(&self, other: &VoxelBuffer) -> bool {
        (&self.words, self.offset, self.len) == (&other.words, other.offset, other.len)
    }
}

impl Eq for VoxelBuffer {}

impl VoxelBuffer {
    /// A zero-filled buffer of `len` bytes (pages are not touched until written).
    pub fn zeroed(len: usize) -> Result<VoxelBuffer> {
        VoxelBuffer::with_prefix(0, len)
    }

    /// A zero-filled buffer with room for `prefix` bytes before `len` voxel bytes.
    ///
    /// Allocation failure is an error, not an abort: a DataLoader worker must
    /// survive a file whose header asks for more memory than the machine has.
    pub fn with_prefix(prefix: usize, len: usize) -> Result<VoxelBuffer> {
        VoxelBuffer::from_words(prefix, len, zeroed_words)
    }

    /// A buffer with room for `prefix` bytes before `len` voxel bytes, all
    /// of them initialised to unspecified values (zeros, or the bytes of an
    /// earlier read whose buffer was given back): for a caller that
    /// overwrites every byte, and so skips zeroing what it overwrites.
    pub fn for_overwrite(prefix: usize, len: usize) -> Result<VoxelBuffer> {
        VoxelBuffer::from_words(prefix, len, overwritable_words)
    }

    /// `prefix` + `len` bytes in the initialised words `words(n)` gives.
    fn from_words(
        prefix: usize,
        len: usize,
        words: fn(usize) -> Option<Vec<u64>>,
    ) -> Result<VoxelBuffer> {
        let total = prefix.checked_add(len).ok_or_else(|| oom(usize::MAX))?;
        let words = words(total.div_ceil(8)).ok_or_else(|| oom(total))?;
        Ok(VoxelBuffer {
            words,
            offset: prefix,
            len,
            filled_on: None,
        })
    }

    /// A buffer of `prefix` + `len` bytes filled in place by `fill`, which
    /// gets the start of the storage and its size (the buffer's bytes and
    /// `scratch` more after them) and says whether it wrote the first
    /// `prefix + len` bytes; the scratch room is then released. If it did
    /// not, there is no buffer, only `fill`'s other result.
    ///
    /// The memory is not zeroed first: a whole-file inflate overwrites it,
    /// and memory freed by the last read is reused as it is (the zeroing of
    /// fresh pages cost a small volume as much as its inflate). `fill` is
    /// meant to fault the storage in with
    /// the crate's `prefault::while_populating`. Above [`SMALL_PAGES_FROM`] it
    /// is backed by 4 KiB pages, not huge pages: small pages' faults hide
    /// behind the fill, whereas huge pages that a virtual machine's host has
    /// taken back (freed memory is returned after a few seconds on VMs with
    /// free page reporting) cost more than the inflate itself, and a volume
    /// that large is seldom read again within seconds. Below it, huge pages
    /// are faster (measured: 512 MiB inflate 0.49 s with small pages,
    /// 0.54-0.80 s with huge ones once returned to the host; 60 MiB 108 ms
    /// with huge pages against 124 ms with small ones).
    ///
    /// # Safety
    ///
    /// When `fill` returns `(true, _)` it must have written every one of
    /// the first `prefix + len` bytes of the storage.
    pub unsafe fn filled_in_place<T>(
        prefix: usize,
        len: usize,
        scratch: usize,
        fill: impl FnOnce(*mut u8, usize) -> Result<(bool, T)>,
    ) -> Result<(Option<VoxelBuffer>, T)> {
        let total = prefix.checked_add(len).ok_or_else(|| oom(usize::MAX))?;
        let size = total.checked_add(scratch).ok_or_else(|| oom(usize::MAX))?;
        let words_len = size.div_ceil(8);
        let mut words = reusable(words_len);
        words
            .try_reserve_exact(crate::pool::large_words(words_len))
            .map_err(|_| oom(size))?;
        let base = words.as_mut_ptr().cast::<u8>();
        if total < SMALL_PAGES_FROM {
            advise_huge_pages(base, words_len * 8);
        }
        let (complete, other) = fill(base, words_len * 8)?;
        if !complete {
            return Ok((None, other));
        }
        let kept = total.div_ceil(8);
        // SAFETY: capacity >= words_len >= kept. `fill` wrote the first
        // `total` bytes (the caller's promise when it says so); the padding
        // after them, to the end of the last word, is written here.
        unsafe {
            for i in total..kept * 8 {
                base.add(i).write(0);
            }
            words.set_len(kept);
        }
        release_spare_capacity(&mut words);
        Ok((
            Some(VoxelBuffer {
                words,
                offset: prefix,
                len,
                filled_on: Some(std::thread::current().id()),
            }),
            other,
        ))
    }

    /// The voxel bytes.
    pub fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[self.offset..self.offset + self.len]
    }

    /// The voxel bytes, mutable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        let (o, l) = (self.offset, self.len);
        &mut bytemuck::cast_slice_mut(&mut self.words)[o..o + l]
    }

    /// Everything, prefix included, mutable (the target of a whole-stream inflate).
    pub fn all_bytes_mut(&mut self) -> &mut [u8] {
        let end = self.offset + self.len;
        &mut bytemuck::cast_slice_mut(&mut self.words)[..end]
    }

    /// A buffer of `len` bytes filled by `fill`, which must write every byte
    /// of the slice it is given (or fail).
    ///
    /// The memory is not zeroed first: a full read overwrites all of it, and
    /// zeroing would cost a pass over the whole volume.
    ///
    /// # Safety
    ///
    /// When `fill` returns `Ok`, it must have written all `len` bytes.
    pub unsafe fn filled_with(
        len: usize,
        fill: impl FnOnce(*mut u8, usize) -> Result<()>,
    ) -> Result<VoxelBuffer> {
        let n = len.div_ceil(8);
        let mut words = reusable(n);
        words
            .try_reserve_exact(crate::pool::large_words(n))
            .map_err(|_| oom(len))?;
        if n > 0 {
            advise_huge_pages(words.as_mut_ptr().cast(), n * 8);
        }
        fill(words.as_mut_ptr().cast(), len)?;
        // The last word's padding bytes (past `len`) are never read as voxels,
        // but must be initialised before the Vec owns them.
        if !len.is_multiple_of(8) {
            // SAFETY: index n - 1 is within the reserved capacity; writing a
            // byte through a raw pointer into it is always allowed.
            unsafe {
                let tail = words.as_mut_ptr().cast::<u8>();
                for i in len..n * 8 {
                    tail.add(i).write(0);
                }
            }
        }
        // SAFETY: capacity >= n (reserved above) and all n * 8 bytes are now
        // initialised: `fill` wrote the first `len` (its contract) and the
        // loop above the rest.
        unsafe { words.set_len(n) };
        release_spare_capacity(&mut words); // a reused buffer may be a little larger
        Ok(VoxelBuffer {
            words,
            offset: 0,
            len,
            filled_on: Some(std::thread::current().id()),
        })
    }

    /// Move the voxels to the start of the storage if they are not 16-byte
    /// aligned there (a `vox_offset` that is not a multiple of 16), so that
    /// every element type can be viewed in place.
    pub fn realign(&mut self) {
        if !self.offset.is_multiple_of(16) {
            let (o, l) = (self.offset, self.len);
            bytemuck::cast_slice_mut::<u64, u8>(&mut self.words).copy_within(o..o + l, 0);
            self.offset = 0;
        }
    }

    /// Number of voxel bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no voxel bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Byte offset of the voxels inside the backing words.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The thread whose whole-volume read filled this buffer without
    /// zeroing it (`None` for other buffers): what
    /// [`crate::pool::give_back`] wants with the storage when it dies.
    pub fn filled_on(&self) -> Option<ThreadId> {
        self.filled_on
    }

    /// The backing storage, the voxel byte offset and length.
    pub fn into_parts(self) -> (Vec<u64>, usize, usize) {
        (self.words, self.offset, self.len)
    }

    /// View the voxels as `T` (`None` if misaligned or not a whole number of `T`).
    pub fn as_slice<T: bytemuck::Pod>(&self) -> Option<&[T]> {
        bytemuck::try_cast_slice(self.bytes()).ok()
    }
}
