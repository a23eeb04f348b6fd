//! A single-file image (`.nii`, `.nii.gz`) in a byte source that is not a
//! local path: a Python file object, a remote file. Every byte comes from
//! `read_at` calls on exactly the ranges needed; a gzip stream is read
//! through its seek index, so a patch of a remote `.nii.gz` costs the
//! compressed bytes of the chunks it touches (plus the header and the index).

use crate::buffer::VoxelBuffer;
use crate::error::{Error, Result};
use crate::file::NiftiArray;
use crate::gz::{self, GzStream, IndexedGz, ReadAt};
use crate::header::NiftiHeader;
use crate::region::{self, Region};
use crate::voxels::{self, RangeReader};

/// Largest extension block read with a header from a stream.
const MAX_EXTENSION_BYTES: u64 = 1 << 28;
const SMALL_HEADER: &str =
    "header (a gzip stream this small cannot inflate to the size the header claims)";
const SMALL_VOXELS: &str =
    "voxel data (a gzip stream this small cannot inflate to the size the header claims)";
/// Compressed bytes per read while inflating a header.
const HEADER_READ: usize = 32 << 10;

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
        let first = stream.prefix(352)?;
        let sizeof_hdr = u32::from_le_bytes([first[0], first[1], first[2], first[3]]);
        let nifti2 = sizeof_hdr == 540 || sizeof_hdr.swap_bytes() == 540;
        let raw = if nifti2 { stream.prefix(544)? } else { first };
        let mut header = NiftiHeader::parse(&raw, false)?;
        let fixed = header.format().header_size() as u64;
        let end = header
            .vox_offset()
            .clamp(fixed, fixed + MAX_EXTENSION_BYTES);
        let tail = if end as usize <= raw.len() {
            raw[fixed as usize..end as usize].to_vec()
        } else {
            stream.prefix(end)?.split_off(fixed as usize)
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
            if positive.num_elements() > 0 {
                let elem = h.datatype().size();
                s.check_inflatable(
                    h.vox_offset() + region::end_offset(positive, h.shape(), elem),
                    SMALL_VOXELS,
                )?;
            }
            if whole {
                if let Some(gz) = &s.gz {
                    let prefix = h.vox_offset() as usize;
                    let mut buf = VoxelBuffer::for_overwrite(prefix, h.data_bytes())?;
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

/// A byte source read front to back.
struct Cursor<'a> {
    src: &'a dyn ReadAt,
    pos: u64,
}

impl std::io::Read for Cursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self
            .src
            .read_at(self.pos, buf)
            .map_err(std::io::Error::other)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Stream<'_> {
    /// The first `len` bytes of the (decompressed) stream. A gzip stream is
    /// inflated from its start with small reads, not through the seek index,
    /// whose first chunk (a MiB of output) a header does not need: over
    /// HTTP, every read is a request and every byte is fetched. The bytes are
    /// kept (by the source's identity) for the next time.
    fn prefix(&self, len: u64) -> Result<Vec<u8>> {
        let Some(gz) = &self.gz else {
            return self.bytes(0, len);
        };
        self.check_inflatable(len, SMALL_HEADER)?;
        let n = usize::try_from(len).unwrap_or(usize::MAX);
        if let Some(kept) = gz.kept_prefix(n) {
            return Ok(kept);
        }
        let mut out = vec![0u8; n];
        let cursor = Cursor {
            src: self.src,
            pos: 0,
        };
        GzStream::new(cursor, HEADER_READ).read_exact(&mut out, "header")?;
        gz.keep_prefix(&out);
        Ok(out)
    }

    /// Refuse, before allocating, to inflate a gzip stream to more than it
    /// can hold (deflate expands at most 1032:1); `what` names the part.
    fn check_inflatable(&self, needed: u64, what: &'static str) -> Result<()> {
        if self.gz.is_none() {
            return Ok(());
        }
        let most = self.src.size()?.saturating_mul(1032);
        if needed > most {
            return Err(Error::TruncatedFile {
                what,
                expected: needed,
                got: most,
            });
        }
        Ok(())
    }

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
