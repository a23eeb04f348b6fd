//! The steps every voxel read shares, wherever the bytes come from: check
//! the region, fetch its rows, fix the byte order, apply negative steps,
//! scale.

use crate::buffer::VoxelBuffer;
use crate::dtype::{swap_in_place, Endian};
use crate::error::Result;
use crate::file::NiftiArray;
use crate::header::NiftiHeader;
use crate::region::{self, flip_axis, Region, Rows};
use crate::scale;

/// Read `region` (everything for `None`) of the image `h` describes:
/// `fetch(positive, whole)` returns the stored bytes of the region with all
/// steps made positive (`whole` when that is the entire image).
pub fn assemble(
    h: &NiftiHeader,
    region: Option<&Region>,
    fetch: impl FnOnce(&Region, bool) -> Result<VoxelBuffer>,
) -> Result<NiftiArray> {
    let shape = h.shape().to_vec();
    let dtype = h.datatype();
    let full = Region::full(&shape);
    let region = region.unwrap_or(&full);
    region.validate(&shape)?;
    let (positive, flips) = region.with_positive_steps();
    let out_shape = region.shape();
    let mut data = fetch(&positive, region == &full)?;
    if h.endian() != Endian::NATIVE {
        swap_in_place(data.bytes_mut(), dtype.swap_unit());
    }
    for axis in flips {
        flip_axis(data.bytes_mut(), &out_shape, dtype.size(), axis);
    }
    Ok(NiftiArray {
        data,
        dtype,
        shape: out_shape,
    })
}

/// `raw` with `scl_slope`/`scl_inter` applied as nibabel does.
pub fn scaled(h: &NiftiHeader, raw: NiftiArray) -> Result<NiftiArray> {
    match h.scaling()? {
        None => Ok(raw),
        Some((slope, inter)) => {
            let (data, dtype) = scale::apply(&raw.data, raw.dtype, slope, inter)?;
            Ok(NiftiArray {
                data,
                dtype,
                shape: raw.shape,
            })
        }
    }
}

/// Bytes from `[start, end)` ranges of a stream, handed to a callback one
/// range at a time (with the range's number).
pub type RangeReader<'r> = dyn FnMut(usize, &[u8]) + 'r;

/// The stored bytes of a positive-step `region`, fetched as one byte range
/// per row of the stream (offsets counted from the start of the stream) by
/// `read(ranges, f)`.
pub fn gather(
    h: &NiftiHeader,
    region: &Region,
    read: impl FnOnce(&[(u64, u64)], &mut RangeReader<'_>) -> Result<()>,
) -> Result<VoxelBuffer> {
    let elem = h.datatype().size();
    if region.num_elements() == 0 {
        return VoxelBuffer::zeroed(0);
    }
    let base = h.vox_offset();
    let (span, row_bytes) = region::row_extent(region, elem);
    let step = region.0[0].step as usize;
    let ranges: Vec<(u64, u64)> = Rows::new(region, h.shape(), elem)
        .map(|off| (base + off, base + off + span as u64))
        .collect();
    let mut out = VoxelBuffer::zeroed(region.num_elements() * elem)?;
    let dst = out.bytes_mut();
    read(&ranges, &mut |i, src| {
        region::gather_row(
            src,
            &mut dst[i * row_bytes..(i + 1) * row_bytes],
            step,
            elem,
        );
    })?;
    Ok(out)
}
