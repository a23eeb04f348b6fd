//! # tioxide
//!
//! A fast, correct reader and writer for NIfTI-1, NIfTI-2 and ANALYZE 7.5
//! images (`.nii`, `.nii.gz`, `.hdr`/`.img` and their gzips), with values,
//! headers and affines that equal nibabel's.
//!
//! - Headers are parsed from a single small read (a few hundred inflated
//!   bytes for `.nii.gz`).
//! - Regions (per-axis start/step/count, negative steps included) are copied
//!   from a memory map touching only the bytes they need, or inflated from a
//!   `.nii.gz` only up to their last byte.
//! - Whole `.nii.gz` files inflate with libdeflate; CRC32 and ISIZE are checked.
//! - `.nii.gz` regions go through a seek index built on the first read (or
//!   loaded from a `.tioxidx` sidecar): a patch inflates only the ~1 MiB
//!   chunks it touches, and an indexed file inflates on all cores.
//! - No file content can make the crate panic: every size is checked first.
//!
//! ```no_run
//! use tioxide::{NiftiFile, Region, AxisRange};
//!
//! let img = NiftiFile::open("brain.nii.gz")?;
//! println!("{:?} {:?}", img.header().shape(), img.header().datatype());
//! let patch = Region(vec![AxisRange::span(10, 42), AxisRange::span(10, 42), AxisRange::span(5, 37)]);
//! let voxels = img.read(Some(&patch))?;
//! assert_eq!(voxels.shape, vec![32, 32, 32]);
//! # Ok::<(), tioxide::Error>(())
//! ```

#![warn(missing_docs)]

// The crate README's examples are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub mod affine;
pub mod blocks;
pub mod buffer;
pub mod cache;
mod claim;
pub mod draw;
pub mod dtype;
pub mod error;
pub mod file;
pub mod guard;
pub mod gz;
pub mod header;
pub mod layout;
pub mod many;
pub mod mapped;
mod pages;
pub mod pending;
pub mod pool;
mod prefault;
pub mod region;
pub mod reorder;
pub mod scale;
pub mod stream_image;
pub mod voxels;
pub mod writer;
pub mod xfloat;

pub use blocks::BlockFile;
pub use buffer::VoxelBuffer;
pub use dtype::{DataType, Endian};
pub use error::{Error, Result};
pub use file::{index_gz_file, read, read_header, ImagePaths, IndexInfo, NiftiArray, NiftiFile};
pub use header::{Extension, FieldValue, Format, NiftiHeader};
pub use pending::PendingNifti;
pub use region::{AxisRange, Region};
pub use stream_image::StreamImage;
pub use writer::{write, WriteOptions};
