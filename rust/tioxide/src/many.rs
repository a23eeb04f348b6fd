//! Several regions of one image read together, as a patch sampler takes
//! them: from a `.nii.gz`, each stretch of the stream that any of them needs
//! is inflated once (or the whole stream, once for all the regions, when
//! that is cheaper: see `NiftiFile::whole_for_regions`), where reading them
//! one by one would look each chunk up again.

use crate::buffer::VoxelBuffer;
use crate::error::{Error, Result};
use crate::file::{NiftiArray, NiftiFile};
use crate::region::{self, Region};
use crate::voxels;

/// Where one row of one region lies in the union of all the rows.
struct Row {
    start: u64,
    end: u64,
    region: usize,
    row: usize,
}

impl NiftiFile {
    /// Inflate a `.nii.gz` whole now and keep its voxels (in the stream
    /// cache) for the region reads that follow, so that they cost a copy:
    /// a patch queue calls this from a worker thread while the previous
    /// subject is being sampled. Nothing to do for other files, or when the
    /// voxels are kept already.
    pub fn prefetch(&self) -> Result<()> {
        if !self.data_gzipped {
            return Ok(());
        }
        let run = || -> Result<()> {
            let data = self.open_data()?;
            let source = self.indexed(&data);
            if source.kept_voxels().is_none() {
                let whole = std::sync::Arc::new(self.read_gz_full(&data)?);
                source.keep_voxels(&whole);
            }
            Ok(())
        };
        run().map_err(|e| e.in_file(&self.paths.data))
    }

    /// Drop the voxels [`NiftiFile::prefetch`] kept (once their regions are read).
    pub fn release(&self) -> Result<()> {
        if !self.data_gzipped {
            return Ok(());
        }
        let run = || -> Result<()> {
            self.indexed(&self.open_data()?).drop_voxels();
            Ok(())
        };
        run().map_err(|e| e.in_file(&self.paths.data))
    }

    /// Read `regions` (each as [`NiftiFile::read`] would, scaled), sharing
    /// the work of inflating a gzip stream between them.
    pub fn read_many(&self, regions: &[Region]) -> Result<Vec<NiftiArray>> {
        if !self.data_gzipped || regions.len() < 2 {
            return regions.iter().map(|r| self.read(Some(r))).collect();
        }
        let raw = self
            .read_many_raw(regions)
            .map_err(|e| e.in_file(&self.paths.data))?;
        raw.into_iter()
            .map(|a| voxels::scaled(&self.header, a).map_err(|e| e.in_file(&self.paths.header)))
            .collect()
    }

    fn read_many_raw(&self, regions: &[Region]) -> Result<Vec<NiftiArray>> {
        let h = &self.header;
        let (shape, elem) = (h.shape(), h.datatype().size());
        for r in regions {
            r.validate(shape)?;
        }
        let positive: Vec<Region> = regions.iter().map(|r| r.with_positive_steps().0).collect();
        let base = h.vox_offset();
        let needed = positive
            .iter()
            .map(|p| base + region::end_offset(p, shape, elem))
            .max()
            .unwrap_or(base);
        let data = self.open_data()?;
        self.check_gz_can_hold(data.key.size(), needed)?;
        let source = self.indexed(&data);
        let mut buffers = if let Some(whole) = self.whole_for_regions(&data, &source, needed)? {
            positive
                .iter()
                .map(|p| region::extract(whole.bytes(), shape, elem, p))
                .collect::<Result<Vec<_>>>()?
        } else {
            self.gather_many(&positive, |ranges, f| source.read_ranges(ranges, f))?
        };
        regions
            .iter()
            .zip(buffers.iter_mut())
            .map(|(r, buf)| voxels::assemble(h, Some(r), |_, _| Ok(std::mem::take(buf))))
            .collect()
    }

    /// The stored bytes of each positive-step region, with the rows of all
    /// of them fetched by one `read` of sorted, disjoint ranges (rows of
    /// different regions that overlap are fetched once, as their union).
    fn gather_many(
        &self,
        regions: &[Region],
        read: impl FnOnce(&[(u64, u64)], &mut voxels::RangeReader<'_>) -> Result<()>,
    ) -> Result<Vec<VoxelBuffer>> {
        let elem = self.header.datatype().size();
        let mut rows = Vec::new();
        for (k, p) in regions.iter().enumerate() {
            if p.num_elements() == 0 {
                continue;
            }
            let ranges = voxels::row_ranges(&self.header, p);
            rows.extend(
                ranges
                    .into_iter()
                    .enumerate()
                    .map(|(row, (start, end))| Row {
                        start,
                        end,
                        region: k,
                        row,
                    }),
            );
        }
        rows.sort_unstable_by_key(|r| (r.start, r.end));
        // Rows that overlap (only rows of one image line can) form one range.
        let mut unions: Vec<(u64, u64)> = Vec::new();
        let mut first_row = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            match unions.last_mut() {
                Some(u) if r.start < u.1 => u.1 = u.1.max(r.end),
                _ => {
                    unions.push((r.start, r.end));
                    first_row.push(i);
                }
            }
        }
        first_row.push(rows.len());
        let mut out = regions
            .iter()
            .map(|p| VoxelBuffer::zeroed(p.num_elements() * elem))
            .collect::<Result<Vec<_>>>()?;
        let mut short = None;
        read(&unions, &mut |u, bytes| {
            let u0 = unions[u].0;
            for r in &rows[first_row[u]..first_row[u + 1]] {
                let p = &regions[r.region];
                let (_, row_bytes) = region::row_extent(p, elem);
                let from = (r.start - u0) as usize;
                let (Some(src), Some(dst)) = (
                    bytes.get(from..from + (r.end - r.start) as usize),
                    out[r.region]
                        .bytes_mut()
                        .get_mut(r.row * row_bytes..(r.row + 1) * row_bytes),
                ) else {
                    short = Some(u0 + bytes.len() as u64);
                    continue;
                };
                region::gather_row(src, dst, p.0[0].step as usize, elem);
            }
        })?;
        match short {
            Some(got) => Err(Error::TruncatedFile {
                what: "voxel data (decompressed)",
                expected: unions.last().map_or(0, |u| u.1),
                got,
            }),
            None => Ok(out),
        }
    }
}
