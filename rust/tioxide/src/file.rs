//! Opening a NIfTI/ANALYZE image on disk: finding its files, reading its
//! header, and reading all or part of its voxels.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::buffer::VoxelBuffer;
use crate::cache::{FileKey, StatCache, MAPS};
use crate::claim;
use crate::dtype::DataType;
use crate::error::{Error, Result};
use crate::guard;
use crate::gz::{self, GzStream, IndexedGz, Inflated, ReadAt};
use crate::header::{Format, NiftiHeader};
use crate::mapped::MappedFile;
use crate::prefault;
use crate::region::{self, Footprint, Region};
use crate::voxels;

/// Largest extension block read with a header (extensions beyond this are refused).
const MAX_EXTENSION_BYTES: u64 = 1 << 28;
/// Deflate's largest possible expansion (a 258-byte match per 2 bits, plus slack).
const MAX_DEFLATE_RATIO: u64 = 1032;
/// Regions of `.nii` files that touch more pages than this, or whose bytes
/// spread over more than `MAP_SPAN_AT_MOST`, are not read through the cached
/// memory map (whose pages, whole folios of them, count as resident: a
/// 512^3 coronal plane of 1 MiB would map some 300 MiB). The span limit
/// bounds what one read may map (a read's span bounds the folios it maps),
/// whatever the maps' budget (`mapped::set_budget`), which drops their pages
/// between reads. A 32^3 patch of a 512^3 float32 volume (a
/// 31 MiB span, 128 KiB needed) goes through the map: pread would copy the
/// 64 KiB of each slice its rows lie in (2 MiB), twice the time of the
/// map's faults on a first read (measured 131 against 75 us), and the same
/// patch read again costs a copy.
const MAP_AT_MOST: u64 = 4 << 20;
const MAP_SPAN_AT_MOST: u64 = 64 << 20;
/// Rows this close are read together...
const COALESCE_GAP: u64 = 64 << 10;
/// ...in reads of at most this many bytes.
const COALESCE_CAP: u64 = 1 << 20;
/// Span of file from which a region read uses every core.
const PARALLEL_SPAN: u64 = 32 << 20;
/// A large region needing less than 1/SPARSE of the pages it touches, which
/// cover most of its span, is copied out of a memory map (only its pages
/// faulted in) rather than through `pread` (which would copy every byte of
/// its span).
const SPARSE: u64 = 8;
/// Size from which a whole `.nii` is read by every core (see
/// [`crate::claim`]): below it, starting a thread costs more than it saves.
const SPLIT_FROM: usize = 4 << 20;
/// The pieces the cores claim: small enough that the last one a core holds
/// is soon done, large enough that claiming them costs nothing.
const PIECE: usize = 1 << 20;
/// Most threads reading one `.nii`.
const MAX_READERS: usize = 8;
/// First read of a header: enough for the fixed header and typical extensions.
const FIRST_READ: usize = 4096;

/// Voxels read from a file: native byte order, Fortran order.
#[derive(Debug, Clone, PartialEq)]
pub struct NiftiArray {
    /// The voxel bytes.
    pub data: VoxelBuffer,
    /// Element type of `data`.
    pub dtype: DataType,
    /// Shape, Fortran order.
    pub shape: Vec<usize>,
}

/// The files an image lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePaths {
    /// Where the header is.
    pub header: PathBuf,
    /// Where the voxels are (the same file for `.nii`).
    pub data: PathBuf,
    /// True for `.hdr`/`.img` pairs.
    pub pair: bool,
}

impl ImagePaths {
    /// Work out header and data files from any one of them.
    pub fn resolve(path: &Path) -> ImagePaths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lower = name.to_ascii_lowercase();
        let stem_len = lower.strip_suffix(".gz").unwrap_or(&lower).len();
        let base = &lower[..stem_len];
        let swap = |ext_len: usize, new_ext: &str| {
            let upper = name[stem_len - ext_len..stem_len]
                .chars()
                .all(|c| !c.is_ascii_lowercase());
            let ext = if upper {
                new_ext.to_ascii_uppercase()
            } else {
                new_ext.to_string()
            };
            let mut s = name[..stem_len - ext_len].to_string();
            s.push_str(&ext);
            s.push_str(&name[stem_len..]);
            path.with_file_name(s)
        };
        if base.ends_with(".hdr") {
            ImagePaths {
                header: path.to_path_buf(),
                data: swap(4, ".img"),
                pair: true,
            }
        } else if base.ends_with(".img") {
            ImagePaths {
                header: swap(4, ".hdr"),
                data: path.to_path_buf(),
                pair: true,
            }
        } else {
            ImagePaths {
                header: path.to_path_buf(),
                data: path.to_path_buf(),
                pair: false,
            }
        }
    }
}

/// An image on disk whose header has been read.
#[derive(Debug, Clone)]
pub struct NiftiFile {
    pub(crate) paths: ImagePaths,
    /// Shared with the header cache: a hot patch read opens the file each
    /// time, and copying the header's field table cost a tenth of it.
    pub(crate) header: Arc<NiftiHeader>,
    pub(crate) data_gzipped: bool,
    /// The data file's identity when the header was looked up (`None` for
    /// a pair whose data file could not be `stat`ed then).
    data_key: Option<FileKey>,
}

/// A single-file image left open after its header was read, with what it
/// is: its first region read maps it from here, not opening it again (the
/// open, close and `fstat`s saved were a tenth of a first 32^3 patch).
struct OpenedFile {
    path: PathBuf,
    file: File,
    key: FileKey,
}

/// The file the last header read of a plain single-file image left open.
/// One for the whole process, not one per [`NiftiFile`]: a program holding
/// thousands of opened images must not hold thousands of descriptors.
static LAST_OPENED: std::sync::Mutex<Option<OpenedFile>> = std::sync::Mutex::new(None);

/// Close the file the last header read left open, if it is still held.
pub(crate) fn forget_opened() {
    if let Some(mut last) = crate::cache::lock_briefly(&LAST_OPENED) {
        *last = None;
    }
}

/// The file the last header read left open, if it is `path` as `key` says
/// it is now (taken: a second read of it opens it again, or finds it mapped).
fn take_opened(path: &Path, key: FileKey) -> Option<File> {
    let mut last = crate::cache::lock_briefly(&LAST_OPENED)?;
    match last.take() {
        Some(o) if o.key == key && o.path.as_os_str() == path.as_os_str() => Some(o.file),
        other => {
            *last = other;
            None
        }
    }
}

type HeaderKey = (FileKey, Option<FileKey>);

/// Parsed headers (with the data file's compression), by header path.
pub static HEADERS: StatCache<HeaderKey, (Arc<NiftiHeader>, bool)> = StatCache::new(256);

pub(crate) fn open(path: &Path) -> Result<File> {
    Ok(open_checked(path)?.0)
}

/// An image's data file with its identity (size included), opened when
/// first read from: a hot patch of an indexed `.nii.gz` is cut from cached
/// chunks and needs no file at all (its open and close took a tenth of the
/// read's 30 µs; each further `fstat`, about 1 µs).
pub(crate) struct DataFile {
    path: PathBuf,
    file: std::sync::OnceLock<File>,
    pub(crate) key: FileKey,
    /// Set when opening it late found another file than `key` names.
    changed: AtomicBool,
}

impl DataFile {
    /// Open `path` now; `key` is what the open file is.
    fn open(path: &Path) -> Result<DataFile> {
        let (file, meta) = open_checked(path)?;
        Ok(DataFile {
            path: path.to_path_buf(),
            file: std::sync::OnceLock::from(file),
            key: FileKey::from_metadata(&meta),
            changed: AtomicBool::new(false),
        })
    }

    /// `path`, known by `stat` as `key`, opened when first read from.
    fn deferred(path: &Path, key: FileKey) -> DataFile {
        DataFile {
            path: path.to_path_buf(),
            file: std::sync::OnceLock::new(),
            key,
            changed: AtomicBool::new(false),
        }
    }

    /// The open file. Opening it late, it must still be the file `key`
    /// names: one replaced since is refused, never read as the old one.
    pub(crate) fn file(&self) -> Result<&File> {
        if let Some(file) = self.file.get() {
            return Ok(file);
        }
        let (file, meta) = open_checked(&self.path)?;
        if FileKey::from_metadata(&meta) != self.key {
            self.changed.store(true, Ordering::Relaxed);
            return Err(Error::Io(std::io::Error::other(
                "the file was replaced or changed while it was read",
            )));
        }
        Ok(self.file.get_or_init(|| file))
    }

    /// Whether opening it late found the file changed since `key` (the
    /// read then failed, however its error was worded on the way out).
    pub(crate) fn changed(&self) -> bool {
        self.changed.load(Ordering::Relaxed)
    }
}

impl ReadAt for DataFile {
    fn size(&self) -> Result<u64> {
        Ok(self.key.size())
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.file()?.read_at(offset, buf)
    }
}

/// [`open`], with the file's metadata.
fn open_checked(path: &Path) -> Result<(File, std::fs::Metadata)> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO with no writer would otherwise block for
    // ever; on a regular file the flag changes nothing.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory, not an image file",
        )));
    }
    if !kind.is_file() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a pipe, socket or device)",
        )));
    }
    Ok((file, meta))
}

/// `pread` exactly `len` bytes at `offset` into raw (possibly uninitialised)
/// memory; a short file is an error.
fn pread_exact(file: &File, ptr: *mut u8, len: usize, offset: u64) -> Result<()> {
    use std::os::fd::AsRawFd;
    let mut done = 0usize;
    while done < len {
        let chunk = (len - done).min(1 << 30);
        let at = libc::off_t::try_from(offset + done as u64)
            .map_err(|_| Error::header("vox_offset", "offset too large"))?;
        // SAFETY: `ptr + done .. ptr + done + chunk` lies inside the caller's
        // allocation of `len` bytes; pread writes at most `chunk` bytes there
        // and reads nothing from it.
        let n = unsafe { libc::pread(file.as_raw_fd(), ptr.add(done).cast(), chunk, at) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.into());
        }
        if n == 0 {
            return Err(Error::TruncatedFile {
                what: "voxel data",
                expected: offset + len as u64,
                got: offset + done as u64,
            });
        }
        done += n as usize;
    }
    Ok(())
}

fn is_gzip_file(file: &File) -> Result<bool> {
    Ok(gz::is_gzip(&file.read_vec(0, 2)?))
}

/// Read and parse the header at `path`, saying too whether the file is gzipped.
fn read_header_from(path: &Path, pair: bool) -> Result<(NiftiHeader, bool, (File, FileKey))> {
    let (mut file, meta) = open_checked(path)?;
    let key = FileKey::from_metadata(&meta);
    let first = file.read_vec(0, FIRST_READ)?;
    if gz::is_gzip(&first) {
        // Inflate just the fixed header, then the extensions if there are any.
        file.seek(SeekFrom::Start(first.len() as u64))?;
        let mut stream = GzStream::new((&first[..]).chain(&file), 8 << 10);
        let mut buf = vec![0u8; Format::Nifti2.min_single_offset() as usize];
        let n = stream.read_up_to(&mut buf)?;
        buf.truncate(n);
        let mut h = NiftiHeader::parse(&buf, pair)?;
        let hs = h.format().header_size();
        let want = extension_end(&h, pair, u64::MAX) as usize;
        if n > hs && buf[hs] != 0 && want > n {
            // Grow in steps: a pair's extensions run to the end of an
            // unknown-length stream, bounded only by `want`.
            let mut chunk = vec![0u8; 64 << 10];
            while buf.len() < want {
                let take = chunk.len().min(want - buf.len());
                let got = stream.read_up_to(&mut chunk[..take])?;
                buf.extend_from_slice(&chunk[..got]);
                if got < take {
                    break;
                }
            }
        }
        h.parse_extensions(&buf[hs.min(buf.len())..buf.len().min(want)], !pair)?;
        return Ok((h, true, (file, key)));
    }
    let mut h = NiftiHeader::parse(&first, pair)?;
    let want = extension_end(&h, pair, key.size()) as usize;
    let hs = h.format().header_size();
    let tail = if want <= first.len() {
        first[hs.min(first.len())..want].to_vec()
    } else {
        file.read_vec(hs as u64, want - hs)?
    };
    h.parse_extensions(&tail, !pair)?;
    Ok((h, false, (file, key)))
}

/// Where the extension block ends: `vox_offset` for single files, the end of
/// a `.hdr`; at most [`MAX_EXTENSION_BYTES`] past the header (a larger claim
/// is a broken `vox_offset`, reported when the voxels are read).
fn extension_end(h: &NiftiHeader, pair: bool, file_len: u64) -> u64 {
    let hs = h.format().header_size() as u64;
    let end = if pair {
        file_len
    } else {
        h.vox_offset().min(file_len)
    };
    end.clamp(hs, hs + MAX_EXTENSION_BYTES)
}

impl NiftiFile {
    /// Open an image from any of its files and read its header.
    pub fn open(path: impl AsRef<Path>) -> Result<NiftiFile> {
        let path = path.as_ref();
        let run = || {
            let paths = ImagePaths::resolve(path);
            let key = (
                FileKey::of(&paths.header)?,
                if paths.pair {
                    FileKey::of(&paths.data).ok()
                } else {
                    None
                },
            );
            let (header, data_gzipped) = HEADERS.get_or_insert(&paths.header, key, || {
                let (header, header_gz, (file, file_key)) =
                    read_header_from(&paths.header, paths.pair)?;
                // Kept for the voxels of a plain single file, if it is the
                // file the cache entry names (not replaced since the stat).
                if !paths.pair && !header_gz && file_key == key.0 {
                    if let Some(mut last) = crate::cache::lock_briefly(&LAST_OPENED) {
                        *last = Some(OpenedFile {
                            path: paths.header.clone(),
                            file,
                            key: file_key,
                        });
                    }
                }
                // A missing .img is reported when the voxels are read.
                let gz = match paths.pair {
                    false => header_gz,
                    true => open(&paths.data)
                        .and_then(|f| is_gzip_file(&f))
                        .unwrap_or(false),
                };
                Ok((Arc::new(header), gz))
            })?;
            let data_key = if paths.pair { key.1 } else { Some(key.0) };
            Ok(NiftiFile {
                paths,
                header,
                data_gzipped,
                data_key,
            })
        };
        run().map_err(|e: Error| e.in_file(path))
    }

    /// The parsed header.
    pub fn header(&self) -> &NiftiHeader {
        &self.header
    }

    /// The files behind this image.
    pub fn paths(&self) -> &ImagePaths {
        &self.paths
    }

    /// Read voxels as stored (no scaling), in native byte order. `region` of
    /// `None` reads everything.
    pub fn read_raw(&self, region: Option<&Region>) -> Result<NiftiArray> {
        self.read_raw_inner(region)
            .map_err(|e| e.in_file(&self.paths.data))
    }

    /// Read voxels with `scl_slope`/`scl_inter` applied as nibabel does.
    pub fn read(&self, region: Option<&Region>) -> Result<NiftiArray> {
        let raw = self.read_raw(region)?;
        voxels::scaled(&self.header, raw).map_err(|e| e.in_file(&self.paths.header))
    }

    fn read_raw_inner(&self, region: Option<&Region>) -> Result<NiftiArray> {
        voxels::assemble(&self.header, region, |positive, whole| {
            match (self.data_gzipped, whole) {
                (false, true) => self.read_plain_full(&self.open_data()?),
                (false, false) => self.read_plain_region(positive),
                (true, true) => {
                    let data = self.open_data()?;
                    self.read_gz_full(&data)
                        .map_err(|e| self.changed_under(&data, e))
                }
                (true, false) => {
                    let data = self.data_when_read()?;
                    match self.read_gz_region(&data, positive) {
                        // Changed since its header was looked up: read as it
                        // is now, as a read opening it first would have.
                        Err(_) if data.changed() => {
                            let data = self.open_data()?;
                            self.read_gz_region(&data, positive)
                                .map_err(|e| self.changed_under(&data, e))
                        }
                        done => done.map_err(|e| self.changed_under(&data, e)),
                    }
                }
            }
        })
    }

    /// `e`, or, for a stream found corrupt while the file changed under
    /// the read (cut and rewritten by another process: the bytes read were
    /// of no one version of it), that change.
    fn changed_under(&self, data: &DataFile, e: Error) -> Error {
        if !matches!(e, Error::CorruptGzip { .. }) {
            return e;
        }
        match FileKey::of(&self.paths.data) {
            Ok(now) if now == data.key => e,
            now => Error::TruncatedFile {
                what: "voxel data (the file changed while it was read)",
                expected: data.key.size(),
                got: now.map_or(0, |k| k.size()),
            },
        }
    }

    fn check_len(&self, file_len: u64) -> Result<()> {
        let need = self.header.vox_offset() + self.header.data_bytes() as u64;
        if file_len < need {
            return Err(Error::TruncatedFile {
                what: "voxel data",
                expected: need,
                got: file_len,
            });
        }
        Ok(())
    }

    /// Refuse before allocating when a gzip file of `compressed` bytes cannot
    /// possibly inflate to `needed` bytes (deflate expands at most 1032:1).
    pub(crate) fn check_gz_can_hold(&self, compressed: u64, needed: u64) -> Result<()> {
        let most = compressed.saturating_mul(MAX_DEFLATE_RATIO);
        if needed > most {
            return Err(Error::TruncatedFile {
                what: "voxel data (a gzip stream this small cannot inflate to the size the header claims)",
                expected: needed,
                got: most,
            });
        }
        Ok(())
    }

    /// The data file, open.
    pub(crate) fn open_data(&self) -> Result<DataFile> {
        DataFile::open(&self.paths.data)
    }

    /// The data file, opened only if it is read from (a region cut from
    /// cached chunks needs no file).
    pub(crate) fn data_when_read(&self) -> Result<DataFile> {
        match self.data_key {
            Some(key) => Ok(DataFile::deferred(&self.paths.data, key)),
            None => self.open_data(),
        }
    }

    fn read_plain_full(&self, data: &DataFile) -> Result<VoxelBuffer> {
        let file = data.file()?;
        self.check_len(data.key.size())?;
        let offset = self.header.vox_offset();
        let read = |ptr: *mut u8, len: usize| {
            // A core per SPLIT_FROM bytes at most: a thread a piece costs more
            // than it saves, and a few cores already draw all the bandwidth.
            let threads = gz::threads().min(len / SPLIT_FROM).min(MAX_READERS);
            if threads < 2 {
                return pread_exact(file, ptr, len, offset);
            }
            // SAFETY: `ptr` starts `len` writable bytes that only this read
            // uses; as `MaybeUninit` they need no initialised contents.
            let all = unsafe { std::slice::from_raw_parts_mut(ptr.cast(), len) };
            let pieces = all.chunks_mut(PIECE).enumerate();
            claim::in_pieces(
                pieces,
                threads,
                |(i, piece): (usize, &mut [MaybeUninit<u8>])| {
                    let at = offset + (i * PIECE) as u64;
                    pread_exact(file, piece.as_mut_ptr().cast(), piece.len(), at).map_err(|e| {
                        match e {
                            // Name the end of the whole data, not of the piece.
                            Error::TruncatedFile { what, got, .. } => Error::TruncatedFile {
                                what,
                                expected: offset + len as u64,
                                got,
                            },
                            e => e,
                        }
                    })
                },
            )
        };
        // SAFETY: `read` returns Ok only once all `len` bytes are read: every
        // piece, each by `pread_exact`.
        unsafe { VoxelBuffer::filled_with(self.header.data_bytes(), read) }
    }

    fn read_plain_region(&self, region: &Region) -> Result<VoxelBuffer> {
        let key = FileKey::of(&self.paths.data)?;
        self.check_len(key.size())?;
        if region.num_elements() == 0 {
            return VoxelBuffer::zeroed(0);
        }
        let h = &self.header;
        let Footprint {
            first,
            end,
            needed,
            touched,
        } = Footprint::of(region, h.shape(), h.datatype().size(), h.vox_offset());
        let span = end - first;
        // With 32 MiB of file per core, the cores each read a run of the rows.
        let parts = gz::threads().min((span / PARALLEL_SPAN) as usize);
        // Few bytes from most pages of the span (a sagittal plane): preads
        // would copy the whole span out of the page cache. Not a patch, whose
        // rows bunch into a few stretches preads take alone.
        let sparse = needed.saturating_mul(SPARSE) < touched && touched > span / 2;
        if span > MAP_SPAN_AT_MOST || (touched > MAP_AT_MOST && !sparse) {
            let ranges = voxels::row_ranges(h, region);
            if sparse {
                // Without a map (a file system that cannot map files), by pread.
                if let Ok(map) = self.data_map(key) {
                    return self.read_sparse(region, &ranges, parts, &map);
                }
            }
            // A large region: read it with bounded preads, so the process
            // holds the region and a buffer, not every page it touches; the
            // kernel's copies out of the page cache are the cost.
            let file = open(&self.paths.data)?;
            return voxels::gather_rows_parallel(h, region, &ranges, parts, |run, f| {
                voxels::read_coalesced(&file, run, COALESCE_GAP, COALESCE_CAP, f)
            });
        }
        let map = self.data_map(key)?;
        map.exposed(first, end);
        let start = self.header.vox_offset() as usize;
        let data =
            map.get(start..start + self.header.data_bytes())
                .ok_or(Error::TruncatedFile {
                    what: "voxel data",
                    expected: (start + self.header.data_bytes()) as u64,
                    got: map.len() as u64,
                })?;
        let (result, faulted) = guard::guarded(&map, || {
            region::extract(
                data,
                self.header.shape(),
                self.header.datatype().size(),
                region,
            )
        });
        if faulted {
            return Err(self.shrank_while_mapped());
        }
        result
    }

    /// The cached read-only map of the data file, valid for `key`.
    fn data_map(&self, key: FileKey) -> Result<Arc<MappedFile>> {
        MAPS.get_or_insert(&self.paths.data, key, || {
            let file = match take_opened(&self.paths.data, key) {
                Some(file) => file,
                None => open(&self.paths.data)?,
            };
            let len = usize::try_from(key.size())
                .map_err(|_| Error::header("vox_offset", "file too large to map"))?;
            // SAFETY: the map is read-only, `len` bytes: the size of the file
            // as `key` (checked against the header before) says. It is used
            // only while the file's identity still matches `key`; a file
            // truncated in place by another process between that check and
            // a copy faults, and copies out of it run inside
            // `guard::guarded`, which turns that into an error.
            Ok(Arc::new(MappedFile::new(unsafe {
                memmap2::MmapOptions::new().len(len).map(&file)?
            })))
        })
    }

    /// The file was cut while mapped: that map now holds zero pages.
    fn shrank_while_mapped(&self) -> Error {
        crate::cache::MAPS.clear();
        Error::TruncatedFile {
            what: "voxel data (the file shrank while it was read)",
            expected: self.header.vox_offset() + self.header.data_bytes() as u64,
            got: FileKey::of(&self.paths.data).map_or(0, |k| k.size()),
        }
    }

    /// A region with a few bytes in each page of a large span (a sagittal
    /// plane of a big volume): copied out of the map, which faults in only
    /// the pages holding them, each core taking a run of the rows and
    /// dropping the pages behind it (see [`MappedFile::copy_dropping_behind`]).
    fn read_sparse(
        &self,
        region: &Region,
        ranges: &[(u64, u64)],
        parts: usize,
        map: &MappedFile,
    ) -> Result<VoxelBuffer> {
        let faulted = AtomicBool::new(false);
        let out = voxels::gather_rows_parallel(&self.header, region, ranges, parts, |run, f| {
            let (result, fault) = guard::guarded(map, || map.copy_dropping_behind(run, f));
            if fault {
                faulted.store(true, Ordering::Relaxed);
            }
            result
        })?;
        if faulted.load(Ordering::Relaxed) {
            return Err(self.shrank_while_mapped());
        }
        Ok(out)
    }

    /// The data file as a gzip source for random access (cached by identity).
    pub(crate) fn indexed<'a>(&self, data: &'a DataFile) -> IndexedGz<'a> {
        indexed_with_key(data, &self.paths.data, &data.key)
    }

    pub(crate) fn read_gz_full(&self, data: &DataFile) -> Result<VoxelBuffer> {
        let h = &self.header;
        let len = data.key.size();
        self.check_gz_can_hold(len, h.vox_offset() + h.data_bytes() as u64)?;
        let prefix = h.vox_offset() as usize;
        // With a complete seek index, every core inflates part of the stream.
        let source = self.indexed(data);
        if let Some(whole) = source.kept_voxels() {
            let mut buf = VoxelBuffer::for_overwrite(0, whole.bytes().len())?;
            buf.bytes_mut().copy_from_slice(whole.bytes());
            return Ok(buf);
        }
        if let Some(index) = source.complete_index() {
            if index.total_out() == Some((prefix + h.data_bytes()) as u64) {
                // Every byte is inflated into it: no zeroing first.
                let mut buf = VoxelBuffer::for_overwrite(prefix, h.data_bytes())?;
                if source.read_all(buf.all_bytes_mut())? {
                    buf.realign();
                    return Ok(buf);
                }
            }
        }
        // Read, not mapped: a file cut short by another process while it is
        // inflated must give an error, and a map would give SIGBUS.
        let file = data.file()?;
        let comp = usize::try_from(len).unwrap_or(usize::MAX);
        let total = prefix + h.data_bytes();
        let margin = gz::in_place_margin(comp);
        let (buf, inflated) = if comp <= total + comp / 16 {
            // The compressed bytes go to the end of the output buffer and
            // are inflated towards its start: the load needs the voxels'
            // memory and a small margin, not the compressed file on top.
            let fill = |base: *mut u8, size: usize| {
                let at = size - comp;
                prefault::while_populating(base, at, || {
                    // SAFETY: [at, size) lies inside the storage `base` starts.
                    match pread_exact(file, unsafe { base.add(at) }, comp, 0) {
                        Ok(()) => {}
                        Err(Error::TruncatedFile { .. }) => {
                            let shrank = Error::gzip(len, "the file shrank while read");
                            return Ok((false, Err(shrank)));
                        }
                        Err(e) => return Err(e),
                    }
                    // SAFETY: `base` holds `size` bytes that only this call
                    // uses; the last `comp` of them were just read.
                    let inflated = unsafe { gz::inflate_members_in_place(base, size, comp, total) };
                    Ok((
                        matches!(inflated, Ok(Inflated::Complete(n)) if n == total),
                        inflated,
                    ))
                })
            };
            // SAFETY: `fill` says "complete" only for an inflate that
            // produced exactly `total` bytes, written from `base` on.
            unsafe { VoxelBuffer::filled_in_place(prefix, h.data_bytes(), margin, fill) }?
        } else {
            let compressed = file.read_vec(0, comp)?;
            let mut buf = VoxelBuffer::with_prefix(prefix, h.data_bytes())?;
            let inflated = gz::inflate_members(&compressed, buf.all_bytes_mut());
            (Some(buf), inflated)
        };
        match (buf, inflated) {
            (Some(mut buf), Ok(Inflated::Complete(n))) if n == total => {
                buf.realign();
                Ok(buf)
            }
            (_, Ok(Inflated::Complete(n))) => Err(Error::TruncatedFile {
                what: "voxel data (decompressed)",
                expected: total as u64,
                got: n as u64,
            }),
            // More data than the header describes, damage, or a stream that
            // outgrew the in-place margin: the streaming reader takes what is
            // needed, then checks every member to the end of the stream and
            // names the exact problem, if any.
            (buf, Ok(Inflated::Overflow) | Err(_)) => {
                drop(buf);
                self.read_gz_verified(data)
            }
        }
    }

    /// Inflate the chunks of the stream that `region` touches, through the
    /// file's seek index (built as far as needed on the way).
    fn read_gz_region(&self, data: &DataFile, region: &Region) -> Result<VoxelBuffer> {
        let h = &self.header;
        let elem = h.datatype().size();
        if region.num_elements() == 0 {
            return VoxelBuffer::zeroed(0);
        }
        let base = h.vox_offset();
        let needed = base + region::end_offset(region, h.shape(), elem);
        self.check_gz_can_hold(data.key.size(), needed)?;
        let source = self.indexed(data);
        if let Some(whole) = self.whole_for_regions(data, &source, needed)? {
            return region::extract(whole.bytes(), h.shape(), elem, region);
        }
        voxels::gather(h, region, |ranges, f| source.read_ranges(ranges, f))
    }

    /// All the voxels, for region reads that end at stream offset `needed`,
    /// when that beats inflating chunks: they were inflated whole recently,
    /// or this first read of the file needs most of it (libdeflate inflates
    /// the whole stream faster than indexing it would; they are then kept
    /// for the next regions, and a read after they are dropped builds the
    /// index, for all reads after it). Never for a volume larger than the
    /// cache of whole streams.
    pub(crate) fn whole_for_regions(
        &self,
        data: &DataFile,
        source: &IndexedGz<'_>,
        needed: u64,
    ) -> Result<Option<Arc<VoxelBuffer>>> {
        if let Some(whole) = source.kept_voxels() {
            return Ok(Some(whole));
        }
        let h = &self.header;
        // Only when they can be kept: a volume larger than the cache would
        // be inflated whole (all its memory) for a single region.
        if needed > (h.vox_offset() + h.data_bytes() as u64) / 2
            && source.could_keep(h.data_bytes())
            && !source.known()?
        {
            let whole = Arc::new(self.read_gz_full(data)?);
            source.keep_voxels(&whole);
            return Ok(Some(whole));
        }
        Ok(None)
    }

    /// Inflate the whole stream front to back, checking every member's CRC32
    /// and ISIZE to the end of the stream, and keep the voxels: the slow
    /// path that names the exact problem of a damaged or oversized stream.
    fn read_gz_verified(&self, data: &DataFile) -> Result<VoxelBuffer> {
        let h = &self.header;
        let base = h.vox_offset();
        self.check_gz_can_hold(data.key.size(), base + h.data_bytes() as u64)?;
        let mut out = VoxelBuffer::zeroed(h.data_bytes())?;
        let mut stream = GzStream::new(data.file()?, 256 << 10);
        stream.skip_to(base, "voxel data (decompressed)")?;
        stream.read_exact(out.bytes_mut(), "voxel data (decompressed)")?;
        stream.drain()?;
        Ok(out)
    }
}

/// A gzip file on disk for random access: cached under its path and
/// identity (device, inode, size, mtime), with its sidecar index.
pub fn indexed_file<'a>(file: &'a File, path: &Path) -> Result<IndexedGz<'a>> {
    Ok(indexed_with_key(file, path, &FileKey::of_file(file)?))
}

/// [`indexed_file`] for a file whose [`FileKey`] is known.
fn indexed_with_key<'a>(file: &'a dyn ReadAt, path: &Path, key: &FileKey) -> IndexedGz<'a> {
    let id = key.identity(path);
    IndexedGz::new(file, Some(id), Some(gz::sidecar_path(path)))
}

/// What is known of a gzip file's seek index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexInfo {
    /// Checkpoints (the start of the stream included).
    pub points: usize,
    /// Output between checkpoints requested when it was built.
    pub span: u64,
    /// True once the whole stream is indexed.
    pub complete: bool,
    /// Decompressed bytes covered.
    pub covered: u64,
    /// Memory the index holds.
    pub memory: usize,
}

impl IndexInfo {
    fn of(index: &gz::SeekIndex) -> IndexInfo {
        IndexInfo {
            points: index.points.len(),
            span: index.span,
            complete: index.complete,
            covered: index.covered(),
            memory: index.memory(),
        }
    }
}

/// Index the whole gzip file at `path` (kept in the index cache); with
/// `sidecar`, also save the index there (`Some(None)`: next to the file).
pub fn index_gz_file(
    path: &Path,
    sidecar: Option<Option<&Path>>,
) -> Result<(IndexInfo, Option<PathBuf>)> {
    let run = || {
        let file = open(path)?;
        let source = indexed_file(&file, path)?;
        let index = source.build()?;
        let saved = match sidecar {
            None => None,
            Some(target) => {
                let target = target.map_or_else(|| gz::sidecar_path(path), Path::to_path_buf);
                gz::save_sidecar(&target, &index, &file)?;
                Some(target)
            }
        };
        Ok((IndexInfo::of(&index), saved))
    };
    run().map_err(|e: Error| e.in_file(path))
}

/// Read just the header of an image.
pub fn read_header(path: impl AsRef<Path>) -> Result<NiftiHeader> {
    Ok(Arc::unwrap_or_clone(NiftiFile::open(path)?.header))
}

/// Read an image's voxels (scaled as nibabel does), all of them or a region.
pub fn read(path: impl AsRef<Path>, region: Option<&Region>) -> Result<NiftiArray> {
    NiftiFile::open(path)?.read(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data file opened late is read only if it is still the file its
    /// key names; one changed since is refused, not read as the old one.
    #[test]
    fn deferred_data_file_refuses_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.nii.gz");
        std::fs::write(&path, b"0123456789").unwrap();
        let key = FileKey::of(&path).unwrap();

        let same = DataFile::deferred(&path, key);
        let mut buf = [0u8; 4];
        assert_eq!(same.read_at(3, &mut buf).unwrap(), 4);
        assert_eq!(&buf, b"3456");
        assert_eq!(same.size().unwrap(), 10);

        std::fs::write(&path, b"0123456789abc").unwrap();
        let stale = DataFile::deferred(&path, key);
        assert!(!stale.changed());
        let err = stale.read_at(0, &mut buf).unwrap_err();
        assert!(err.to_string().contains("changed"), "{err}");
        assert!(stale.changed() && !same.changed());
        // The file opened before the change stays the one read.
        assert_eq!(same.read_at(0, &mut buf).unwrap(), 4);
        assert_eq!(&buf, b"0123");
    }
}
