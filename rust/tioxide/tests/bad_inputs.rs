//! Every malformed input gives its specific error; none panics, none
//! allocates what a header claims before the file is known to hold it.

mod common;

use common::*;
use tioxide::{DataType, Endian, Error, FieldValue, Format, NiftiFile};

fn open_err(bytes: &[u8], name: &str) -> Error {
    let dir = tempfile::tempdir().unwrap();
    let p = put(dir.path(), name, bytes);
    let e = NiftiFile::open(&p)
        .and_then(|f| f.read(None))
        .expect_err("must fail");
    assert_eq!(e.path(), Some(p.as_path()), "error must name the file: {e}");
    assert!(e.to_string().contains(name), "message names the file: {e}");
    e
}

fn good_file() -> Vec<u8> {
    let native: Vec<u8> = (0..60u32).flat_map(|v| (v as i16).to_ne_bytes()).collect();
    single_file(&[5, 4, 3], DataType::I16, Endian::Little, &native)
}

fn with_fields(edit: impl FnOnce(&mut Vec<(&'static str, FieldValue)>)) -> Vec<u8> {
    let mut fields = nifti1_fields(&[5, 4, 3], DataType::I16, 352.0);
    edit(&mut fields);
    let mut f = header_bytes(Format::Nifti1, Endian::Little, &fields);
    f.extend(vec![0u8; 60 * 2]);
    f
}

#[test]
fn empty_file() {
    let e = open_err(b"", "empty.nii");
    assert!(
        matches!(e.kind(), Error::TruncatedFile { got: 0, .. }),
        "{e}"
    );
}

#[test]
fn short_header() {
    let e = open_err(&good_file()[..100], "short.nii");
    assert!(
        matches!(
            e.kind(),
            Error::TruncatedFile {
                expected: 348,
                got: 100,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn bad_sizeof_hdr() {
    let mut f = good_file();
    f[..4].copy_from_slice(&347i32.to_le_bytes());
    let e = open_err(&f, "size.nii");
    assert!(
        matches!(e.kind(), Error::BadSizeofHdr { little: 347, .. }),
        "{e}"
    );
}

#[test]
fn bad_magic() {
    let mut f = good_file();
    f[344..348].copy_from_slice(b"xyz\0");
    let e = open_err(&f, "magic.nii");
    assert!(matches!(e.kind(), Error::BadMagic { .. }), "{e}");
}

#[test]
fn pair_magic_in_a_single_file() {
    // nibabel reads it as a single file; so do we, if the voxels lie past the header.
    let dir = tempfile::tempdir().unwrap();
    let mut f = good_file();
    f[344..348].copy_from_slice(b"ni1\0");
    let p = put(dir.path(), "pairmagic.nii", &f);
    let arr = NiftiFile::open(&p).unwrap().read(None).unwrap();
    assert_eq!(arr.data.bytes(), &f[352..]);
    f[108..112].copy_from_slice(&0f32.to_le_bytes());
    let e = open_err(&f, "pairmagic0.nii");
    assert!(
        matches!(
            e.kind(),
            Error::InvalidHeader {
                field: "vox_offset",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn unsupported_datatypes() {
    for code in [0i64, 1, 1536, 2048, 77] {
        let f = with_fields(|f| set(f, "datatype", FieldValue::Int(code)));
        let e = open_err(&f, "dt.nii");
        assert!(
            matches!(e.kind(), Error::UnsupportedDatatype(c) if i64::from(*c) == code),
            "{e}"
        );
    }
}

#[test]
fn zero_negative_and_out_of_range_dims() {
    for dim in [
        vec![0i64, 5, 4, 3, 1, 1, 1, 1],
        vec![8, 5, 4, 3, 1, 1, 1, 1],
        vec![-1, 5, 4, 3, 1, 1, 1, 1],
        vec![3, 5, 0, 3, 1, 1, 1, 1],
        vec![3, 5, -4, 3, 1, 1, 1, 1],
    ] {
        let f = with_fields(|f| set(f, "dim", FieldValue::Ints(dim.clone())));
        let e = open_err(&f, "dim.nii");
        assert!(matches!(e.kind(), Error::InvalidDim { .. }), "{dim:?}: {e}");
    }
}

#[test]
fn dims_whose_product_overflows() {
    // NIfTI-2 dims are 64-bit: 2^40 * 2^40 overflows.
    let mut fields = nifti1_fields(&[1], DataType::I16, 0.0);
    set(&mut fields, "sizeof_hdr", FieldValue::Int(540));
    set(
        &mut fields,
        "dim",
        FieldValue::Ints(vec![3, 1 << 40, 1 << 40, 4, 1, 1, 1, 1]),
    );
    set(&mut fields, "vox_offset", FieldValue::Int(544));
    set(&mut fields, "magic", FieldValue::Bytes(b"n+2".to_vec()));
    let f = header_bytes(Format::Nifti2, Endian::Little, &fields);
    let e = open_err(&f, "overflow.nii");
    assert!(matches!(e.kind(), Error::InvalidDim { .. }), "{e}");
}

#[test]
fn huge_dims_in_a_small_file_are_refused_before_allocating() {
    // 32767^3 int16 = 70 TB claimed by a tiny file, plain and gzip.
    let f = with_fields(|f| {
        set(
            f,
            "dim",
            FieldValue::Ints(vec![3, 32767, 32767, 32767, 1, 1, 1, 1]),
        )
    });
    let e = open_err(&f, "huge.nii");
    assert!(matches!(e.kind(), Error::TruncatedFile { .. }), "{e}");
    let e = open_err(&gzip(&f), "huge.nii.gz");
    assert!(matches!(e.kind(), Error::TruncatedFile { .. }), "{e}");
}

#[test]
fn vox_offset_inside_header_or_past_the_end() {
    let f = with_fields(|f| set(f, "vox_offset", FieldValue::Float(100.0)));
    let e = open_err(&f, "inside.nii");
    assert!(
        matches!(
            e.kind(),
            Error::InvalidHeader {
                field: "vox_offset",
                ..
            }
        ),
        "{e}"
    );
    let f = with_fields(|f| set(f, "vox_offset", FieldValue::Float(1e6)));
    let e = open_err(&f, "past.nii");
    assert!(matches!(e.kind(), Error::TruncatedFile { .. }), "{e}");
    let f = with_fields(|f| set(f, "vox_offset", FieldValue::Float(f64::NAN)));
    let e = open_err(&f, "nan.nii");
    assert!(
        matches!(
            e.kind(),
            Error::InvalidHeader {
                field: "vox_offset",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn truncated_voxel_data_plain_and_gzip() {
    let f = good_file();
    let cut = &f[..f.len() - 10];
    let e = open_err(cut, "cut.nii");
    assert!(matches!(e.kind(), Error::TruncatedFile { .. }), "{e}");
    let e = open_err(&gzip(cut), "cut.nii.gz");
    assert!(matches!(e.kind(), Error::TruncatedFile { .. }), "{e}");
}

#[test]
fn truncated_gzip_member() {
    let z = gzip(&good_file());
    let e = open_err(&z[..z.len() - 20], "member.nii.gz");
    assert!(
        matches!(
            e.kind(),
            Error::TruncatedFile { .. } | Error::CorruptGzip { .. }
        ),
        "{e}"
    );
}

#[test]
fn corrupt_deflate_data() {
    let mut z = gzip(&good_file());
    let mid = z.len() / 2;
    for b in &mut z[mid..mid + 8] {
        *b ^= 0x5a;
    }
    let e = open_err(&z, "corrupt.nii.gz");
    assert!(
        matches!(
            e.kind(),
            Error::CorruptGzip { .. } | Error::TruncatedFile { .. }
        ),
        "{e}"
    );
}

#[test]
fn crc_and_isize_mismatch() {
    let good = gzip(&good_file());
    for (at, name) in [(8usize, "crc.nii.gz"), (3, "isize.nii.gz")] {
        let mut z = good.clone();
        let i = z.len() - at;
        z[i] ^= 0xff;
        let e = open_err(&z, name);
        assert!(matches!(e.kind(), Error::CorruptGzip { .. }), "{name}: {e}");
    }
}

#[test]
fn trailing_garbage_is_ignored_as_gzip_does() {
    let dir = tempfile::tempdir().unwrap();
    let file = good_file();
    for tail in [&b"\0\0\0\0\0\0"[..], b"garbage after the stream"] {
        let mut z = gzip(&file);
        z.extend_from_slice(tail);
        let p = put(dir.path(), "tail.nii.gz", &z);
        let arr = NiftiFile::open(&p).unwrap().read(None).unwrap();
        assert_eq!(arr.data.bytes(), &file[352..]);
    }
}

#[test]
fn missing_files_and_directories() {
    let dir = tempfile::tempdir().unwrap();
    let e = NiftiFile::open(dir.path().join("nope.nii")).unwrap_err();
    assert!(
        matches!(e.kind(), Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound),
        "{e}"
    );
    let e = NiftiFile::open(dir.path()).unwrap_err();
    assert!(
        matches!(e.kind(), Error::Io(io) if io.kind() == std::io::ErrorKind::IsADirectory),
        "{e}"
    );
    // A header without its image.
    let mut fields = nifti1_fields(&[2, 2, 2], DataType::U8, 0.0);
    set(&mut fields, "magic", FieldValue::Bytes(b"ni1".to_vec()));
    put(
        dir.path(),
        "lonely.hdr",
        &header_bytes(Format::Nifti1, Endian::Little, &fields),
    );
    let e = NiftiFile::open(dir.path().join("lonely.hdr"))
        .unwrap()
        .read(None)
        .unwrap_err();
    assert!(e.to_string().contains("lonely.img"), "{e}");
}

#[test]
fn random_damage_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_file();
    let goodz = gzip(&good);
    let mut rng = Lcg(99);
    for round in 0..400 {
        let base = if round % 2 == 0 { &good } else { &goodz };
        let mut f = base.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(f.len());
            f[i] = rng.next() as u8;
        }
        if rng.below(3) == 0 {
            f.truncate(rng.below(f.len()));
        }
        let p = put(
            dir.path(),
            if round % 2 == 0 {
                "fz.nii"
            } else {
                "fz.nii.gz"
            },
            &f,
        );
        let _ = NiftiFile::open(&p).and_then(|img| {
            let _ = img.read(Some(&tioxide::Region(vec![
                tioxide::AxisRange::span(1, 3),
                tioxide::AxisRange::span(0, 2),
                tioxide::AxisRange::span(1, 2),
            ])));
            img.read(None)
        });
    }
}
