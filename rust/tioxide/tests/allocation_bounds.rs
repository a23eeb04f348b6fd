//! No read allocates more than the file could hold: a counting global
//! allocator records the largest single allocation while small files whose
//! headers claim huge images (or huge extensions, or gzip header fields) are
//! opened and read, whole and by region. One test, so that no other test's
//! allocations run concurrently with it.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use tioxide::{AxisRange, DataType, FieldValue, Format, NiftiFile, Region};

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// only addition is recording the requested size in an atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes any read may allocate at once whatever the header says: input
/// buffers (256 KiB), a seek-index window, libdeflate's state.
const SLACK: usize = 4 << 20;

fn fields(shape: &[usize], dtype: DataType) -> Vec<(&'static str, FieldValue)> {
    nifti1_fields(shape, dtype, 352.0)
}

fn image(fields: &[(&'static str, FieldValue)], voxel_bytes: usize) -> Vec<u8> {
    let mut f = header_bytes(Format::Nifti1, tioxide::Endian::Little, fields);
    f.extend(vec![7u8; voxel_bytes]);
    f
}

/// Open `bytes` as `name` and read everything and a corner region; the
/// largest allocation must stay below `SLACK` plus a few times the file's
/// size (a gzip file: its 1032:1 inflated bound is not enough to refuse a
/// small claim, so the bound is the claim only when it is that small).
fn check(name: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = put(dir.path(), name, bytes);
    LARGEST.store(0, Ordering::Relaxed);
    let results = match NiftiFile::open(&path) {
        Err(e) => vec![Err(e)],
        Ok(img) => {
            let corner = Region(
                img.header()
                    .shape()
                    .iter()
                    .map(|&n| AxisRange::span(n.saturating_sub(2), n))
                    .collect(),
            );
            vec![
                img.read(None).map(|_| ()),
                img.read(Some(&corner)).map(|_| ()),
            ]
        }
    };
    let largest = LARGEST.load(Ordering::Relaxed);
    let bound = SLACK + 4 * bytes.len();
    assert!(
        largest <= bound,
        "{name} ({} bytes): an allocation of {largest} bytes (bound {bound}); results {results:?}",
        bytes.len()
    );
    assert!(
        results.iter().any(|r| r.is_err()),
        "{name}: some read must fail"
    );
}

/// As [`check`], for inputs that may also read fine.
fn check_any(name: &str, bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = put(dir.path(), name, bytes);
    LARGEST.store(0, Ordering::Relaxed);
    let _ = NiftiFile::open(&path).and_then(|img| img.read(None));
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(
        largest <= SLACK + 4 * bytes.len(),
        "{name}: an allocation of {largest} bytes"
    );
}

#[test]
fn small_files_claiming_huge_images_allocate_little() {
    // The counter sees voxel buffers: reading a valid 64^3 image allocates one.
    let dir = tempfile::tempdir().unwrap();
    let good = put(
        dir.path(),
        "good.nii.gz",
        &gzip(&image(&fields(&[64, 64, 64], DataType::U8), 1 << 18)),
    );
    LARGEST.store(0, Ordering::Relaxed);
    NiftiFile::open(&good).unwrap().read(None).unwrap();
    assert!(LARGEST.load(Ordering::Relaxed) >= 1 << 18);

    let huge = [
        (vec![32767usize, 32767, 32767], DataType::I16),
        (vec![4096, 4096, 4096], DataType::U8),
        (vec![1024, 1024, 512], DataType::F64), // 4 GiB
        (vec![512, 512, 256], DataType::F32),   // 256 MiB: below any refusal by size alone
        (vec![64, 64, 64, 64, 64, 64, 4], DataType::C128),
    ];
    for (i, (shape, dtype)) in huge.iter().enumerate() {
        let f = image(&fields(shape, *dtype), 100);
        check(&format!("huge{i}.nii"), &f);
        check(&format!("huge{i}.nii.gz"), &gzip(&f));
        check(&format!("huge{i}.hdr"), &f[..348]);
    }
    // vox_offset far past the end, plain and gzip
    let mut fl = fields(&[8, 8, 8], DataType::I16);
    set(&mut fl, "vox_offset", FieldValue::Float(1.0e12));
    let f = image(&fl, 1024);
    check("far.nii", &f);
    check("far.nii.gz", &gzip(&f));
    // an extension claiming 2 GiB, inside the extension block and past it
    let mut fl = fields(&[4, 4, 4], DataType::U8);
    set(&mut fl, "vox_offset", FieldValue::Float(432.0));
    let mut f = image(&fl, 0);
    f[348] = 1;
    f.extend((i32::MAX - 15).to_le_bytes());
    f.extend(4i32.to_le_bytes());
    f.extend(vec![0u8; 64]);
    check("ext.nii", &f);
    check("ext.nii.gz", &gzip(&f));
    check_any("ext.hdr", &f);
    // a gzip header whose FEXTRA length and FNAME run past the end
    let mut g = gzip(&image(&fields(&[4, 4, 4], DataType::U8), 64));
    g[3] |= 0x04 | 0x08;
    g.truncate(40);
    check("fields.nii.gz", &g);
}
