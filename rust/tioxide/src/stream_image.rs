//! A single-file image (`.nii`, `.nii.gz`) in a byte source that is not a
//! local path: a Python file object, a remote file. Every byte comes from
//! `read_at` calls on exactly the ranges needed; a gzip stream is read
//! through its seek index, so a patch of a remote `.nii.gz` costs the
//! compressed bytes of the chunks it touches (plus the header and the index).

use crate::buffer::VoxelBuffer;
use crate::error::{Error, Result};
use crate::file::NiftiArray;
use crate::gz::{self, IndexedGz, ReadAt};
use crate::header::NiftiHeader;
use crate::region::{self, Region};
use crate::voxels::{self, RangeReader};

/// Largest extension block read with a header from a stream.
const MAX_EXTENSION_BYTES: u64 = 1 << 28;

/// Decompressed bytes of a source, by range.
struct Stream<'a> {
    src: &'a dyn ReadAt,
    gz: Option<IndexedGz<'a>>,
}

/// An image in a byte source.
pub struct StreamImage<'a> {
    stream: Stream<'a>,
    header: NiftiHeader,
}

impl<'a> StreamImage<'a> {
    /// Read the header of the image in `src`. `id` identifies the source's
    /// contents for the caches (`None`: nothing cached); `index` is a saved
    /// seek index (a sidecar's bytes) for a gzip source.
    pub fn open(
        src: &'a dyn ReadAt,
        id: Option<String>,
        index: Option<Vec<u8>>,
    ) -> Result<StreamImage<'a>> {
        let gz = gz::is_gzip(&src.read_vec(0, 2)?)
            .then(|| IndexedGz::new(src, id, None).with_saved_index(index));
        let stream = Stream { src, gz };
        let first = stream.bytes(0, 352)?;
        let sizeof_hdr = u32::from_le_bytes([first[0], first[1], first[2], first[3]]);
        let nifti2 = sizeof_hdr == 540 || sizeof_hdr.swap_bytes() == 540;
        let raw = if nifti2 { stream.bytes(0, 544)? } else { first };
        let mut header = NiftiHeader::parse(&raw, false)?;
        let fixed = header.format().header_size() as u64;
        let end = header
            .vox_offset()
            .clamp(fixed, fixed + MAX_EXTENSION_BYTES);
        let tail = if end as usize <= raw.len() {
            raw[fixed as usize..end as usize].to_vec()
        } else {
            stream.bytes(fixed, end)?
        };
        header.parse_extensions(&tail, true)?;
        if stream.gz.is_none() {
            // As for a file on disk: a source too short for its voxels is
            // truncated, whichever region is read.
            let need = header.vox_offset() + header.data_bytes() as u64;
            let size = src.size()?;
            if size < need {
                return Err(Error::TruncatedFile {
                    what: "voxel data",
                    expected: need,
                    got: size,
                });
            }
        }
        Ok(StreamImage { stream, header })
    }

    /// The parsed header.
    pub fn header(&self) -> &NiftiHeader {
        &self.header
    }

    /// Read voxels (scaled as nibabel does), all of them or a region.
    pub fn read(&self, region: Option<&Region>) -> Result<NiftiArray> {
        let h = &self.header;
        let s = &self.stream;
        let raw = voxels::assemble(h, region, |positive, whole| {
            if s.gz.is_some() && positive.num_elements() > 0 {
                // Refuse before allocating what the stream cannot hold:
                // deflate expands at most 1032:1.
                let elem = h.datatype().size();
                let needed = h.vox_offset() + region::end_offset(positive, h.shape(), elem);
                let most = s.src.size()?.saturating_mul(1032);
                if needed > most {
                    return Err(Error::TruncatedFile {
                        what: "voxel data (a gzip stream this small cannot inflate to the size the header claims)",
                        expected: needed,
                        got: most,
                    });
                }
            }
            if whole {
                if let Some(gz) = &s.gz {
                    let prefix = h.vox_offset() as usize;
                    let mut buf = VoxelBuffer::with_prefix(prefix, h.data_bytes())?;
                    if gz.read_all(buf.all_bytes_mut())? {
                        buf.realign();
                        return Ok(buf);
                    }
                }
            }
            voxels::gather(h, positive, |ranges, f| s.read_ranges(ranges, f))
        })?;
        voxels::scaled(h, raw)
    }
}

impl Stream<'_> {
    /// Bytes `[a, b)` of the (decompressed) stream.
    fn bytes(&self, a: u64, b: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.read_ranges(&[(a, b)], &mut |_, bytes| out.extend_from_slice(bytes))?;
        Ok(out)
    }

    fn read_ranges(&self, ranges: &[(u64, u64)], f: &mut RangeReader<'_>) -> Result<()> {
        if let Some(gz) = &self.gz {
            return gz.read_ranges(ranges, f);
        }
        // Plain bytes: one read covering every range (one request for a remote file).
        voxels::read_coalesced(self.src, ranges, u64::MAX, u64::MAX, f)
    }
}
