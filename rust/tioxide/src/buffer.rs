//! Owned voxel buffers with 8-byte alignment.
//!
//! Buffers are backed by `Vec<u64>` so that any NIfTI element type can be
//! viewed in place (numpy, `bytemuck`) without a copy, whatever the
//! allocator. A buffer may start with a prefix (a decompressed header) that
//! is skipped by `offset`, which saves moving the voxels after inflating a
//! whole `.nii.gz` in one call.

/// An aligned byte buffer holding `len` voxel bytes from `offset`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VoxelBuffer {
    words: Vec<u64>,
    offset: usize,
    len: usize,
}

impl VoxelBuffer {
    /// A zero-filled buffer of `len` bytes (pages are not touched until written).
    pub fn zeroed(len: usize) -> VoxelBuffer {
        VoxelBuffer::with_prefix(0, len)
    }

    /// A zero-filled buffer with room for `prefix` bytes before `len` voxel bytes.
    pub fn with_prefix(prefix: usize, len: usize) -> VoxelBuffer {
        let total = prefix + len;
        VoxelBuffer {
            words: vec![0u64; total.div_ceil(8)],
            offset: prefix,
            len,
        }
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

    /// The backing storage, the voxel byte offset and length.
    pub fn into_parts(self) -> (Vec<u64>, usize, usize) {
        (self.words, self.offset, self.len)
    }

    /// View the voxels as `T` (`None` if misaligned or not a whole number of `T`).
    pub fn as_slice<T: bytemuck::Pod>(&self) -> Option<&[T]> {
        bytemuck::try_cast_slice(self.bytes()).ok()
    }
}
