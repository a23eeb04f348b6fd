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
    each_row(axes, first, &mut |s| out.push((s, s + span)));
}

/// Call `f` with the offset of every row from `first` on, in file order, for
/// `axes` (rows and bytes between them, fastest first): nested loops whose
/// innermost is a plain range (an odometer's bookkeeping per row cost a
/// tenth of a hot patch read).
#[inline]
fn each_row(axes: &[(usize, u64)], first: u64, f: &mut impl FnMut(u64)) {
    match axes.split_last() {
        None => f(first),
        Some((&(count, step), [])) => (0..count as u64).for_each(|k| f(first + k * step)),
        Some((&(count, step), inner)) => {
            for k in 0..count as u64 {
                each_row(inner, first + k * step, f);
            }
        }
    }
}

/// Page size the footprint of a region is counted in.
const PAGE: u64 = 4096;

/// Bytes of whole pages that the byte ranges `ranges` (sorted) touch: what
/// a memory-mapped read of them brings into the process.
pub fn pages_touched(ranges: impl IntoIterator<Item = (u64, u64)>) -> u64 {
    let mut total = 0;
    let mut last_page = None;
    for (a, b) in ranges {
        if a >= b {
            continue;
        }
        let (first, end) = (a / PAGE, (b - 1) / PAGE + 1);
        let from = match last_page {
            Some(p) if p >= first => p + 1,
            _ => first,
        };
        total += end.saturating_sub(from) * PAGE;
        last_page = Some(end - 1);
    }
    total
}

/// Where the bytes of a positive-step region lie in a file whose voxels
/// start at byte `base`, worked out from the region's shape rather than by
/// listing its rows (a sagittal plane has tens of thousands: listing them
/// to count their pages cost a fifth of the read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// First byte of the first row.
    pub first: u64,
    /// Just past the last byte of the last row.
    pub end: u64,
    /// Bytes the rows span, all told.
    pub needed: u64,
    /// Bytes of the whole pages the rows touch: counted exactly for the
    /// first run of rows along the second axis, times the runs, and at most
    /// the pages of `first..end`.
    pub touched: u64,
}

impl Footprint {
    /// The footprint of `region` (positive steps) in an image of `shape`
    /// whose `elem`-byte voxels start at byte `base`.
    pub fn of(region: &Region, shape: &[usize], elem: usize, base: u64) -> Footprint {
        let rows = Rows::new(region, shape, elem);
        if rows.done {
            return Footprint {
                first: base,
                end: base,
                needed: 0,
                touched: 0,
            };
        }
        let span = row_extent(region, elem).0 as u64;
        let first = base + rows.off;
        let end = base + end_offset(region, shape, elem);
        let (run, step) = rows.axes.first().copied().unwrap_or((1, 0));
        let runs: u64 = rows.axes.iter().skip(1).map(|a| a.0 as u64).product();
        let in_run = pages_touched((0..run as u64).map(|k| {
            let s = first + k * step;
            (s, s + span)
        }));
        let all = (end.div_ceil(PAGE) - first / PAGE) * PAGE;
        Footprint {
            first,
            end,
            needed: run as u64 * runs * span,
            touched: in_run.saturating_mul(runs).min(all),
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
    let rows = Rows::new(region, shape, elem);
    if rows.done {
        return Ok(out);
    }
    let dst = out.bytes_mut();
    let copied = match (step, row_bytes) {
        // Rows of 1 to 16 bytes (a sagittal plane's, one voxel each):
        // copies of a constant size, not a call to memcpy for each.
        (1, 1) => copy_rows::<1>(data, dst, &rows),
        (1, 2) => copy_rows::<2>(data, dst, &rows),
        (1, 4) => copy_rows::<4>(data, dst, &rows),
        (1, 8) => copy_rows::<8>(data, dst, &rows),
        (1, 16) => copy_rows::<16>(data, dst, &rows),
        _ => {
            let mut i = 0;
            let mut fits = true;
            each_row(&rows.axes, rows.off, &mut |off| {
                let off = off as usize;
                match (data.get(off..off + span), dst.get_mut(i..i + row_bytes)) {
                    (Some(src), Some(row)) => gather_row(src, row, step, elem),
                    _ => fits = false,
                }
                i += row_bytes;
            });
            fits
        }
    };
    if !copied {
        // Built only on failure, not for each row on the way.
        return Err(Error::TruncatedFile {
            what: "voxel data",
            expected: end_offset(region, shape, elem),
            got: data.len() as u64,
        });
    }
    Ok(out)
}

/// Copy rows of `N` contiguous bytes each, at the offsets `rows` gives,
/// one after another into `dst`; false if one of them lies past the end of
/// `data` (`dst` holds exactly the rows).
fn copy_rows<const N: usize>(data: &[u8], dst: &mut [u8], rows: &Rows) -> bool {
    let mut out = dst.chunks_exact_mut(N);
    let mut fits = true;
    each_row(&rows.axes, rows.off, &mut |off| {
        let src = usize::try_from(off)
            .ok()
            .and_then(|off| data.get(off..)?.first_chunk::<N>());
        match (src, out.next()) {
            (Some(src), Some(row)) => row.copy_from_slice(src),
            _ => fits = false,
        }
    });
    fits
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

    fn axes(spec: &[(usize, isize, usize)]) -> Region {
        Region(
            spec.iter()
                .map(|&(start, step, count)| AxisRange { start, step, count })
                .collect(),
        )
    }

    /// Footprints against the listed rows: bounds and bytes exactly, pages
    /// exactly where every run of rows lies alike in its pages.
    #[test]
    fn footprints_match_the_rows_they_sum_up() {
        let cube = [512usize, 512, 512];
        let t1 = [256usize, 256, 176];
        let cases: [(&[usize], usize, Region, bool); 7] = [
            (&cube, 4, axes(&[(240, 1, 32); 3]), true),
            (&cube, 4, axes(&[(0, 1, 32); 3]), true),
            (&cube, 4, axes(&[(480, 1, 32); 3]), true),
            (&t1, 2, axes(&[(128, 1, 1), (0, 1, 256), (0, 1, 176)]), true),
            (&t1, 2, axes(&[(0, 1, 256), (0, 1, 256), (88, 1, 1)]), true),
            (&t1, 2, axes(&[(3, 5, 40), (7, 3, 20), (1, 2, 9)]), false),
            (&[1000], 8, axes(&[(10, 1, 990)]), true),
        ];
        for (shape, elem, region, pages_exact) in cases {
            let base = 352;
            let ranges = Rows::ranges(
                &region,
                shape,
                elem,
                base,
                row_extent(&region, elem).0 as u64,
            );
            let got = Footprint::of(&region, shape, elem, base);
            assert_eq!(got.first, ranges[0].0, "{region:?}");
            assert_eq!(got.end, ranges[ranges.len() - 1].1, "{region:?}");
            assert_eq!(got.needed, ranges.iter().map(|r| r.1 - r.0).sum::<u64>());
            let exact = pages_touched(ranges.iter().copied());
            if pages_exact {
                assert_eq!(got.touched, exact, "{region:?}");
            }
            let all = pages_touched([(got.first, got.end)]);
            assert!(got.touched <= all && got.touched > 0, "{region:?}");
        }
        let empty = Footprint::of(&axes(&[(0, 1, 0), (0, 1, 4)]), &[4, 4], 2, 352);
        assert_eq!((empty.needed, empty.touched), (0, 0));
    }

    /// Every row shape (the sizes copied without memcpy and the others,
    /// strided too) comes out as the rows listed one by one.
    #[test]
    fn extracted_regions_equal_their_rows_copied_one_by_one() {
        let shape = [9usize, 7, 5];
        let mut truncations = 0;
        for elem in [1usize, 2, 4, 8] {
            let data: Vec<u8> = (0..shape.iter().product::<usize>() * elem)
                .map(|i| (i * 7 + i / 251) as u8)
                .collect();
            for region in [
                axes(&[(4, 1, 1), (0, 1, 7), (0, 1, 5)]),
                axes(&[(2, 1, 2), (1, 2, 3), (1, 1, 4)]),
                axes(&[(0, 1, 9), (0, 1, 7), (2, 1, 1)]),
                axes(&[(1, 3, 3), (0, 1, 7), (0, 2, 3)]),
                axes(&[(3, 1, 4), (6, 1, 1), (4, 1, 1)]),
                axes(&[(5, 1, 4), (6, 1, 1), (4, 1, 1)]),
                axes(&[(8, 1, 1), (0, 1, 7), (0, 1, 5)]),
            ] {
                let (span, row_bytes) = row_extent(&region, elem);
                let step = region.0[0].step as usize;
                let mut want = Vec::new();
                for (s, _) in Rows::ranges(&region, &shape, elem, 0, span as u64) {
                    let mut row = vec![0u8; row_bytes];
                    gather_row(&data[s as usize..s as usize + span], &mut row, step, elem);
                    want.extend(row);
                }
                let got = extract(&data, &shape, elem, &region).unwrap();
                assert_eq!(got.bytes(), want.as_slice(), "{elem} {region:?}");
                let short = &data[..data.len() - 1];
                let ends_last = region
                    .0
                    .iter()
                    .zip(shape)
                    .all(|(r, n)| r.start + r.count == n);
                if ends_last {
                    truncations += 1;
                    assert!(matches!(
                        extract(short, &shape, elem, &region),
                        Err(Error::TruncatedFile { .. })
                    ));
                }
            }
        }
        assert_eq!(truncations, 8, "two regions end at the last voxel");
    }

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
