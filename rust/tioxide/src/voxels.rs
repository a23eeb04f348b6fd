//! The steps every voxel read shares, wherever the bytes come from: check
//! the region, fetch its rows, fix the byte order, apply negative steps,
//! scale.

use crate::buffer::VoxelBuffer;
use crate::dtype::{swap_in_place, Endian};
use crate::error::{Error, Result};
use crate::file::NiftiArray;
use crate::gz::ReadAt;
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

/// One `[start, end)` byte range per row of a positive-step `region`
/// (offsets from the start of the stream), in increasing order.
pub fn row_ranges(h: &NiftiHeader, region: &Region) -> Vec<(u64, u64)> {
    let elem = h.datatype().size();
    let base = h.vox_offset();
    let (span, _) = region::row_extent(region, elem);
    Rows::ranges(region, h.shape(), elem, base, span as u64)
}

/// The stored bytes of a positive-step `region`, fetched as one byte range
/// per row of the stream (offsets counted from the start of the stream) by
/// `read(ranges, f)`.
pub fn gather(
    h: &NiftiHeader,
    region: &Region,
    read: impl FnOnce(&[(u64, u64)], &mut RangeReader<'_>) -> Result<()>,
) -> Result<VoxelBuffer> {
    gather_rows(h, region, &row_ranges(h, region), read)
}

/// [`gather`], with the region's [`row_ranges`] already computed.
pub fn gather_rows(
    h: &NiftiHeader,
    region: &Region,
    ranges: &[(u64, u64)],
    read: impl FnOnce(&[(u64, u64)], &mut RangeReader<'_>) -> Result<()>,
) -> Result<VoxelBuffer> {
    let elem = h.datatype().size();
    let len = region.num_elements() * elem;
    let (_, bytes) = region::row_extent(region, elem);
    let contiguous = region.0.first().is_none_or(|r| r.step == 1);
    if len == 0 || !contiguous || ranges.len().checked_mul(bytes) != Some(len) {
        let Some(mut out) = RowOutput::new(h, region)? else {
            return VoxelBuffer::zeroed(0);
        };
        let rows = out.rows;
        read(ranges, &mut rows.writer(out.buffer.bytes_mut()))?;
        return Ok(out.buffer);
    }
    // Rows of whole runs of voxels go straight into memory not zeroed
    // first (zeroing a patch's output cost a sixteenth of a hot read).
    let rows = ranges.len();
    let fill = |base: *mut u8, _: usize| {
        let (mut next, mut wrong) = (0usize, false);
        read(ranges, &mut |k, src| {
            // Each row once, in order, whole: then all `len` bytes are written.
            if k != next || k >= rows || src.len() < bytes {
                wrong = true;
                return;
            }
            // SAFETY: k < rows, so `k * bytes + bytes <= rows * bytes == len`:
            // the destination lies inside the `len` bytes `base` starts, and
            // `src` holds at least `bytes`; a fresh buffer overlaps nothing.
            unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), base.add(k * bytes), bytes) };
            next += 1;
        })?;
        if wrong || next != rows {
            return Err(Error::InvalidData(format!(
                "a region's rows were not all read ({next} of {rows})"
            )));
        }
        Ok(())
    };
    // SAFETY: `fill` returns Ok only when rows 0..rows were each written in
    // full, `bytes` apiece: all `rows * bytes == len` bytes.
    unsafe { VoxelBuffer::filled_with(len, fill) }
}

/// [`gather_rows`] with the rows split into `parts` runs, each read by its
/// own thread (`read` numbers rows from the start of the run it is given).
pub fn gather_rows_parallel(
    h: &NiftiHeader,
    region: &Region,
    ranges: &[(u64, u64)],
    parts: usize,
    read: impl Fn(&[(u64, u64)], &mut RangeReader<'_>) -> Result<()> + Sync,
) -> Result<VoxelBuffer> {
    if parts <= 1 || ranges.len() < 2 {
        return gather_rows(h, region, ranges, read);
    }
    let Some(mut out) = RowOutput::new(h, region)? else {
        return VoxelBuffer::zeroed(0);
    };
    let rows = out.rows;
    let per = ranges.len().div_ceil(parts);
    let read = &read;
    std::thread::scope(|scope| {
        let runs: Vec<_> = ranges
            .chunks(per)
            .zip(out.buffer.bytes_mut().chunks_mut(per * rows.bytes))
            .map(|(run, dst)| scope.spawn(move || read(run, &mut rows.writer(dst))))
            .collect();
        runs.into_iter().try_for_each(|run| {
            run.join()
                .unwrap_or_else(|_| Err(Error::Io(std::io::Error::other("a read thread failed"))))
        })
    })?;
    Ok(out.buffer)
}

/// How the rows of a region land in its output.
#[derive(Clone, Copy)]
struct RowLayout {
    /// Bytes of one output row.
    bytes: usize,
    /// Step along axis 0 and element size, to pick a row's voxels.
    step: usize,
    elem: usize,
}

impl RowLayout {
    /// A callback writing row `i` of `dst` from the bytes the row spans.
    fn writer(self, dst: &mut [u8]) -> impl FnMut(usize, &[u8]) + '_ {
        move |i, src| {
            let row = &mut dst[i * self.bytes..(i + 1) * self.bytes];
            region::gather_row(src, row, self.step, self.elem);
        }
    }
}

/// The output of a region read and the shape of its rows (`None` for an
/// empty region).
struct RowOutput {
    buffer: VoxelBuffer,
    rows: RowLayout,
}

impl RowOutput {
    fn new(h: &NiftiHeader, region: &Region) -> Result<Option<RowOutput>> {
        let elem = h.datatype().size();
        if region.num_elements() == 0 {
            return Ok(None);
        }
        let (_, bytes) = region::row_extent(region, elem);
        Ok(Some(RowOutput {
            buffer: VoxelBuffer::zeroed(region.num_elements() * elem)?,
            rows: RowLayout {
                bytes,
                step: region.0[0].step as usize,
                elem,
            },
        }))
    }
}

/// Read sorted `ranges` of `src` with few, bounded reads: neighbouring
/// ranges (gaps under `gap` bytes) share one read of at most `cap` bytes
/// (a single longer range is read alone); `f(k, bytes)` gets each range.
pub fn read_coalesced(
    src: &dyn ReadAt,
    ranges: &[(u64, u64)],
    gap: u64,
    cap: u64,
    f: &mut RangeReader<'_>,
) -> Result<()> {
    let mut k = 0;
    let mut buf = Vec::new();
    while k < ranges.len() {
        let lo = ranges[k].0;
        let mut hi = ranges[k].1;
        let mut last = k;
        while let Some(&(a, b)) = ranges.get(last + 1) {
            if a > hi.saturating_add(gap) || b.max(hi) - lo > cap {
                break;
            }
            hi = hi.max(b);
            last += 1;
        }
        let len = usize::try_from(hi - lo).map_err(|_| Error::InvalidRegion("too large".into()))?;
        buf.resize(len, 0);
        let got = src.read_at(lo, &mut buf)?;
        if got < len {
            return Err(Error::TruncatedFile {
                what: "voxel data",
                expected: hi,
                got: lo + got as u64,
            });
        }
        for (j, &(a, b)) in ranges.iter().enumerate().take(last + 1).skip(k) {
            f(j, &buf[(a - lo) as usize..(b - lo) as usize]);
        }
        k = last + 1;
    }
    Ok(())
}
