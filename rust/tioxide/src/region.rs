//! Strided regions: per-axis start/step/count, and copying them out of a
//! Fortran-ordered byte source.

use crate::buffer::VoxelBuffer;
use crate::error::{Error, Result};

/// One axis of a region: `count` indices `start, start + step, ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AxisRange {
    /// First index.
    pub start: usize,
    /// Distance between consecutive indices (may be negative, never 0).
    pub step: isize,
    /// Number of indices.
    pub count: usize,
}

impl AxisRange {
    /// The whole axis of length `n`.
    pub fn full(n: usize) -> AxisRange {
        AxisRange {
            start: 0,
            step: 1,
            count: n,
        }
    }

    /// `start..stop` with step 1 (`stop` clamped below by `start`).
    pub fn span(start: usize, stop: usize) -> AxisRange {
        AxisRange {
            start,
            step: 1,
            count: stop.saturating_sub(start),
        }
    }

    fn last(&self) -> i128 {
        self.start as i128 + self.step as i128 * (self.count as i128 - 1)
    }

    /// The indices Python's `slice(start, stop, step)` picks from an axis
    /// of length `n` (`slice.indices` then `range`): negative bounds count
    /// from the end, bounds past the axis are clamped. `None` for a step of
    /// zero, which Python refuses.
    pub fn from_slice(
        n: usize,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
    ) -> Option<AxisRange> {
        let step = step.unwrap_or(1);
        if step == 0 {
            return None;
        }
        let n = i128::try_from(n).ok()?;
        let (low, high) = if step < 0 { (-1, n - 1) } else { (0, n) };
        let bound = |v: Option<i64>, default: i128| match v {
            None => default,
            Some(v) if v < 0 => (i128::from(v) + n).max(low),
            Some(v) => i128::from(v).min(high),
        };
        let (first, end) = if step < 0 {
            (bound(start, high), bound(stop, low))
        } else {
            (bound(start, low), bound(stop, high))
        };
        let step = i128::from(step);
        let span = if step > 0 { end - first } else { first - end };
        let count = if span > 0 {
            (span + step.abs() - 1) / step.abs()
        } else {
            0
        };
        Some(if count == 0 {
            AxisRange {
                start: 0,
                step: 1,
                count: 0,
            }
        } else {
            AxisRange {
                start: usize::try_from(first).ok()?,
                step: isize::try_from(step).ok()?,
                count: usize::try_from(count).ok()?,
            }
        })
    }
}

/// A region of an N-d image, one [`AxisRange`] per axis in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(pub Vec<AxisRange>);

impl Region {
    /// The region a tuple of Python slices `(start, stop, step)` picks from
    /// an image of `shape` (axes past the slices whole), as numpy indexing
    /// does; `None` for more slices than axes or a step of zero.
    pub fn from_slices(
        shape: &[usize],
        slices: &[(Option<i64>, Option<i64>, Option<i64>)],
    ) -> Option<Region> {
        if slices.len() > shape.len() {
            return None;
        }
        let picked = slices
            .iter()
            .zip(shape)
            .map(|(&(a, b, c), &n)| AxisRange::from_slice(n, a, b, c));
        let rest = shape[slices.len()..]
            .iter()
            .map(|&n| Some(AxisRange::full(n)));
        picked.chain(rest).collect::<Option<Vec<_>>>().map(Region)
    }

    /// The whole image.
    pub fn full(shape: &[usize]) -> Region {
        Region(shape.iter().map(|&n| AxisRange::full(n)).collect())
    }

    /// Shape of the region.
    pub fn shape(&self) -> Vec<usize> {
        self.0.iter().map(|a| a.count).collect()
    }

    /// Number of elements.
    pub fn num_elements(&self) -> usize {
        self.0.iter().map(|a| a.count).product()
    }

    /// Check the region fits an image of `shape`.
    pub fn validate(&self, shape: &[usize]) -> Result<()> {
        if self.0.len() != shape.len() {
            return Err(Error::InvalidRegion(format!(
                "region has {} axes but the image has {} (shape {shape:?})",
                self.0.len(),
                shape.len()
            )));
        }
        for (axis, (r, &n)) in self.0.iter().zip(shape).enumerate() {
            if r.step == 0 {
                return Err(Error::InvalidRegion(format!(
                    "axis {axis}: step must not be zero"
                )));
            }
            if r.count == 0 {
                continue;
            }
            let last = r.last();
            if r.start >= n || last < 0 || last >= n as i128 {
                return Err(Error::InvalidRegion(format!(
                    "axis {axis}: indices {}..={last} (step {}) fall outside 0..{n}",
                    r.start, r.step
                )));
            }
        }
        Ok(())
    }

    /// The same set of indices with every step positive, and the axes whose
    /// order must be reversed afterwards.
    pub fn with_positive_steps(&self) -> (Region, Vec<usize>) {
        let mut flips = Vec::new();
        let axes = self
            .0
            .iter()
            .enumerate()
            .map(|(i, r)| {
                if r.step < 0 && r.count > 0 {
                    if r.count > 1 {
                        flips.push(i);
                    }
                    AxisRange {
                        start: r.last() as usize,
                        step: -r.step,
                        count: r.count,
                    }
                } else {
                    *r
                }
            })
            .collect();
        (Region(axes), flips)
    }
}

/// The rows of a positive-step region, in file order: for each, the byte
/// offset (relative to the first voxel) of its first element.
pub struct Rows {
    /// Per axis 1..: rows along it, and bytes between consecutive ones.
    axes: Vec<(usize, u64)>,
    idx: Vec<usize>,
    /// Offset of the next row, kept up to date as the odometer turns (a
    /// sum over the axes per row cost a fifth of a hot patch read).
    off: u64,
    done: bool,
}

impl Rows {
    /// Iterate the rows of `region` (positive steps) in an image of `shape`.
    pub fn new(region: &Region, shape: &[usize], elem: usize) -> Rows {
        let mut stride = elem as u64;
        let mut off = 0u64;
        let mut axes = Vec::with_capacity(shape.len());
        for (k, (r, &n)) in region.0.iter().zip(shape).enumerate() {
            off += r.start as u64 * stride;
            if k > 0 {
                axes.push((r.count, r.step as u64 * stride));
            }
            stride *= n as u64;
        }
        Rows {
            idx: vec![0; axes.len()],
            axes,
            off,
            done: region.num_elements() == 0,
        }
    }
}

impl Rows {
    /// The `[start, end)` byte range of every row of `region` (positive
    /// steps) in an image of `shape`, `span` bytes each, offsets counted
    /// from `base`, in file order. Nested loops whose innermost is a plain
    /// range, rather than the odometer: a patch has a thousand rows, and the
    /// odometer's bookkeeping per row cost a tenth of a hot patch read.
    pub fn ranges(
        region: &Region,
        shape: &[usize],
        elem: usize,
        base: u64,
        span: u64,
    ) -> Vec<(u64, u64)> {
        let rows = Rows::new(region, shape, elem);
        if rows.done {
            return Vec::new();
        }
        let count = rows.axes.iter().map(|a| a.0).product::<usize>();
        let mut out = Vec::with_capacity(count);
        push_rows(&mut out, &rows.axes, base + rows.off, span);
        out
    }
}

/// Push the byte range of every row from `first` on, for `axes` (rows and
/// bytes between them, fastest first) of `span` bytes each.
fn push_rows(out: &mut Vec<(u64, u64)>, axes: &[(usize, u64)], first: u64, span: u64) {
    match axes.split_last() {
        None => out.push((first, first + span)),
        Some((&(count, step), [])) => out.extend((0..count as u64).map(|k| {
            let s = first + k * step;
            (s, s + span)
        })),
        Some((&(count, step), inner)) => {
            for k in 0..count as u64 {
                push_rows(out, inner, first + k * step, span);
            }
        }
    }
}

impl Iterator for Rows {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.done {
            return None;
        }
        let off = self.off;
        // Advance the odometer over axes 1.. (axis 0 lies within the row).
        self.done = true;
        for (i, &(count, step)) in self.idx.iter_mut().zip(&self.axes) {
            if *i + 1 < count {
                *i += 1;
                self.off += step;
                self.done = false;
                break;
            }
            self.off -= *i as u64 * step;
            *i = 0;
        }
        Some(off)
    }
}

/// Byte offset (relative to the first voxel) just past the last byte a
/// positive-step region touches; 0 for an empty region.
pub fn end_offset(region: &Region, shape: &[usize], elem: usize) -> u64 {
    if region.num_elements() == 0 {
        return 0;
    }
    let mut stride = elem as u64;
    let mut last = 0u64;
    for (r, &n) in region.0.iter().zip(shape) {
        last += (r.start as u64 + (r.count as u64 - 1) * r.step as u64) * stride;
        stride *= n as u64;
    }
    last + elem as u64
}

/// Bytes a row of the region spans in the file, and bytes it yields.
pub fn row_extent(region: &Region, elem: usize) -> (usize, usize) {
    let r = region.0[0];
    let span = if r.count == 0 {
        0
    } else {
        ((r.count - 1) * r.step as usize + 1) * elem
    };
    (span, r.count * elem)
}

/// Copy one row: `count` elements `step` apart in `src` to contiguous `dst`.
pub fn gather_row(src: &[u8], dst: &mut [u8], step: usize, elem: usize) {
    if step == 1 {
        dst.copy_from_slice(&src[..dst.len()]);
        return;
    }
    let stride = step * elem;
    for (i, out) in dst.chunks_exact_mut(elem).enumerate() {
        out.copy_from_slice(&src[i * stride..i * stride + elem]);
    }
}

/// Copy a positive-step region out of `data` (the voxels of an image of
/// `shape`, Fortran order). `data` must hold the whole image.
pub fn extract(data: &[u8], shape: &[usize], elem: usize, region: &Region) -> Result<VoxelBuffer> {
    // Every row is written (or the copy fails): no zeroing first.
    let mut out = VoxelBuffer::for_overwrite(0, region.num_elements() * elem)?;
    let (span, row_bytes) = row_extent(region, elem);
    let step = region.0.first().map_or(1, |r| r.step as usize);
    let dst = out.bytes_mut();
    for (i, off) in Rows::new(region, shape, elem).enumerate() {
        let off = off as usize;
        // Built only on failure: made and dropped for each of a patch's
        // thousand rows, the error cost a twentieth of a hot read.
        let src = data
            .get(off..off + span)
            .ok_or_else(|| Error::TruncatedFile {
                what: "voxel data",
                expected: (off + span) as u64,
                got: data.len() as u64,
            })?;
        gather_row(
            src,
            &mut dst[i * row_bytes..(i + 1) * row_bytes],
            step,
            elem,
        );
    }
    Ok(out)
}

fn reverse_as<const N: usize>(row: &mut [u8]) {
    // A constant item size: each swap compiles to register moves.
    let n = row.len() / N;
    for i in 0..n / 2 {
        let j = n - 1 - i;
        let mut item = [0u8; N];
        item.copy_from_slice(&row[i * N..(i + 1) * N]);
        row.copy_within(j * N..(j + 1) * N, i * N);
        row[j * N..(j + 1) * N].copy_from_slice(&item);
    }
}

/// Reverse `row` as a slice of `T` if it is aligned for them (the standard
/// library reverses primitive slices with SIMD shuffles), else item by item.
fn reverse_words<T: bytemuck::Pod, const N: usize>(row: &mut [u8]) {
    match bytemuck::try_cast_slice_mut::<u8, T>(row) {
        Ok(words) => words.reverse(),
        Err(_) => reverse_as::<N>(row),
    }
}

/// Reverse the order of the `elem`-byte items of `row`.
fn reverse_items(row: &mut [u8], elem: usize) {
    match elem {
        1 => row.reverse(),
        2 => reverse_words::<u16, 2>(row),
        3 => reverse_as::<3>(row),
        4 => reverse_words::<u32, 4>(row),
        8 => reverse_words::<u64, 8>(row),
        16 => reverse_as::<16>(row),
        _ => {
            let n = row.len() / elem.max(1);
            for i in 0..n / 2 {
                let (front, back) = row.split_at_mut((n - 1 - i) * elem);
                front[i * elem..(i + 1) * elem].swap_with_slice(&mut back[..elem]);
            }
        }
    }
}

/// Reverse the order of elements along `axis` of a Fortran-ordered buffer.
pub fn flip_axis(bytes: &mut [u8], shape: &[usize], elem: usize, axis: usize) {
    let inner: usize = shape[..axis].iter().product::<usize>() * elem;
    let n = shape[axis];
    let block = inner * n;
    if block == 0 {
        return;
    }
    if axis == 0 {
        // Elements within each row: reversed as fixed-size items, not one
        // small copy per element.
        for row in bytes.chunks_exact_mut(block) {
            reverse_items(row, elem);
        }
        return;
    }
    let mut tmp = vec![0u8; inner];
    for chunk in bytes.chunks_exact_mut(block) {
        for i in 0..n / 2 {
            let j = n - 1 - i;
            tmp.copy_from_slice(&chunk[i * inner..(i + 1) * inner]);
            chunk.copy_within(j * inner..(j + 1) * inner, i * inner);
            chunk[j * inner..(j + 1) * inner].copy_from_slice(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_reverse_alike_aligned_or_not() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for elem in [1, 2, 3, 4, 8, 16] {
            for start in 0..8 {
                let len = (bytes.len() - start) / elem * elem;
                let mut row = bytes[start..start + len].to_vec();
                let want: Vec<u8> = row.chunks(elem).rev().flatten().copied().collect();
                // The copy is aligned; reversing from an odd offset is not.
                reverse_items(&mut row, elem);
                assert_eq!(row, want, "elem {elem}, aligned copy");
                let mut padded = vec![0u8; len + 1];
                padded[1..].copy_from_slice(&bytes[start..start + len]);
                reverse_items(&mut padded[1..], elem);
                assert_eq!(&padded[1..], &want[..], "elem {elem}, unaligned");
            }
        }
    }

    fn image(shape: &[usize]) -> Vec<u8> {
        (0..shape.iter().product::<usize>())
            .map(|i| i as u8)
            .collect()
    }

    fn naive(shape: &[usize], region: &Region) -> Vec<u8> {
        // Fortran-order enumeration of region indices.
        let counts = region.shape();
        let total: usize = counts.iter().product();
        (0..total)
            .map(|mut flat| {
                let mut src = 0;
                let mut stride = 1;
                for (k, r) in region.0.iter().enumerate() {
                    let i = flat % counts[k];
                    flat /= counts[k];
                    let idx = r.start as isize + i as isize * r.step;
                    src += idx as usize * stride;
                    stride *= shape[k];
                }
                src as u8
            })
            .collect()
    }

    #[test]
    fn extract_and_flip_match_naive_indexing() {
        let shape = [5, 4, 3];
        let data = image(&shape);
        let region = Region(vec![
            AxisRange {
                start: 4,
                step: -2,
                count: 3,
            },
            AxisRange {
                start: 1,
                step: 1,
                count: 3,
            },
            AxisRange {
                start: 2,
                step: -1,
                count: 3,
            },
        ]);
        region.validate(&shape).unwrap();
        let (pos, flips) = region.with_positive_steps();
        let mut out = extract(&data, &shape, 1, &pos).unwrap();
        let out_shape = region.shape();
        for ax in flips {
            flip_axis(out.bytes_mut(), &out_shape, 1, ax);
        }
        assert_eq!(out.bytes(), naive(&shape, &region).as_slice());
    }

    #[test]
    fn out_of_bounds_regions_are_refused() {
        let shape = [4, 4];
        let bad = Region(vec![
            AxisRange {
                start: 2,
                step: 2,
                count: 2,
            },
            AxisRange::full(4),
        ]);
        assert!(matches!(bad.validate(&shape), Err(Error::InvalidRegion(_))));
        let zero = Region(vec![
            AxisRange {
                start: 0,
                step: 0,
                count: 1,
            },
            AxisRange::full(4),
        ]);
        assert!(zero.validate(&shape).is_err());
        assert!(Region(vec![AxisRange::full(4)]).validate(&shape).is_err());
    }
}
