//! Reading: every field, both byte orders, every datatype, regions against full reads.

mod common;

use common::*;
use tioxide::header::serialize;
use tioxide::{AxisRange, DataType, Endian, FieldValue, Format, NiftiFile, NiftiHeader, Region};

fn sample_value(kind_is_float: bool, i: usize) -> f64 {
    if kind_is_float {
        1.5 + i as f64 * 0.25
    } else {
        (i as f64) + 1.0
    }
}

/// Every field of every layout survives serialise -> parse in both byte orders.
#[test]
fn every_field_of_every_format_in_both_byte_orders() {
    use tioxide::layout::Kind;
    for format in [Format::Nifti1, Format::Nifti2, Format::Analyze] {
        for endian in [Endian::Little, Endian::Big] {
            let mut values: Vec<(&str, FieldValue)> = Vec::new();
            for (i, d) in format.layout().iter().enumerate() {
                let float = matches!(d.kind, Kind::F32 | Kind::F64);
                let v = match (d.kind, d.count) {
                    (Kind::Bytes, n) => FieldValue::Bytes(
                        (0..n.min(3)).map(|k| b'a' + ((i + k) % 26) as u8).collect(),
                    ),
                    (_, 1) if float => FieldValue::Float(sample_value(true, i)),
                    (_, 1) => FieldValue::Int(sample_value(false, i) as i64 % 100),
                    (_, n) if float => {
                        FieldValue::Floats((0..n).map(|k| sample_value(true, i + k)).collect())
                    }
                    (_, n) => FieldValue::Ints((0..n).map(|k| (i + k) as i64 % 100).collect()),
                };
                values.push((d.name, v));
            }
            // Fields that must hold valid values for the header to parse.
            let size = format.header_size() as i64;
            let fixed: Vec<(&str, FieldValue)> = vec![
                ("sizeof_hdr", FieldValue::Int(size)),
                ("dim", FieldValue::Ints(vec![3, 4, 5, 6, 1, 1, 1, 1])),
                ("datatype", FieldValue::Int(16)),
                ("bitpix", FieldValue::Int(32)),
                (
                    "pixdim",
                    FieldValue::Floats(vec![-1.0, 1.5, 2.5, 3.5, 1.0, 1.0, 1.0, 1.0]),
                ),
                (
                    "vox_offset",
                    if format == Format::Nifti2 {
                        FieldValue::Int(544)
                    } else {
                        FieldValue::Float(352.0)
                    },
                ),
                ("scl_slope", FieldValue::Float(2.0)),
                ("scl_inter", FieldValue::Float(0.5)),
                ("qform_code", FieldValue::Int(1)),
                ("sform_code", FieldValue::Int(2)),
                ("quatern_b", FieldValue::Float(0.0)),
                ("quatern_c", FieldValue::Float(0.0)),
                ("quatern_d", FieldValue::Float(0.0)),
            ];
            for (name, v) in fixed {
                if let Some(slot) = values.iter_mut().find(|(n, _)| *n == name) {
                    slot.1 = v;
                }
            }
            let magic: &[u8] = match format {
                Format::Nifti1 => b"n+1",
                Format::Nifti2 => b"n+2",
                Format::Analyze => b"",
            };
            if let Some(slot) = values.iter_mut().find(|(n, _)| *n == "magic") {
                slot.1 = FieldValue::Bytes(magic.to_vec());
            }
            if let Some(slot) = values.iter_mut().find(|(n, _)| *n == "eol_check") {
                slot.1 = FieldValue::Bytes(b"\r\n\x1a\n".to_vec());
            }
            let mut raw = serialize(format, endian, &values);
            raw.extend_from_slice(&[0u8; 4]);
            let h = NiftiHeader::parse(&raw, true)
                .unwrap_or_else(|e| panic!("{format:?} {endian:?}: {e}"));
            assert_eq!(h.endian(), endian);
            assert_eq!(h.format(), format);
            for (name, expected) in &values {
                let got = h.get(name).unwrap_or_else(|| panic!("{name} missing"));
                let expected = match (*name, expected) {
                    // Float32 storage rounds; these sample values are exact in f32.
                    ("bitpix", _) => FieldValue::Int(32),
                    _ => expected.clone(),
                };
                assert_eq!(got, &expected, "{format:?} {endian:?} field {name}");
            }
            assert_eq!(h.shape(), &[4, 5, 6]);
            assert_eq!(h.datatype(), DataType::F32);
        }
    }
}

fn native_data(dtype: DataType, n: usize, rng: &mut Lcg) -> Vec<u8> {
    let mut v = rng.bytes(n * dtype.size());
    // Keep floats finite so equality is meaningful.
    if matches!(dtype, DataType::F32 | DataType::C64) {
        for c in v.chunks_exact_mut(4) {
            let x = (u32::from_ne_bytes([c[0], c[1], c[2], c[3]]) % 100_000) as f32 / 7.0;
            c.copy_from_slice(&x.to_ne_bytes());
        }
    }
    if matches!(dtype, DataType::F64 | DataType::C128) {
        for c in v.chunks_exact_mut(8) {
            let x = (u64::from_ne_bytes(c.try_into().unwrap()) % 1_000_000) as f64 / 7.0;
            c.copy_from_slice(&x.to_ne_bytes());
        }
    }
    v
}

#[test]
fn every_datatype_both_orders_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(7);
    let shape = [5, 4, 3];
    for dtype in DataType::ALL {
        for endian in [Endian::Little, Endian::Big] {
            let native = native_data(dtype, 60, &mut rng);
            let file = single_file(&shape, dtype, endian, &native);
            for (name, bytes) in [("a.nii", file.clone()), ("a.nii.gz", gzip(&file))] {
                let p = put(dir.path(), name, &bytes);
                let img = NiftiFile::open(&p).unwrap();
                assert_eq!(img.header().endian(), endian);
                let arr = img.read_raw(None).unwrap();
                assert_eq!(arr.dtype, dtype);
                assert_eq!(arr.shape, shape);
                assert_eq!(
                    arr.data.bytes(),
                    native.as_slice(),
                    "{dtype:?} {endian:?} {name}"
                );
            }
        }
    }
}

fn naive_region(full: &[u8], shape: &[usize], elem: usize, region: &Region) -> Vec<u8> {
    let counts = region.shape();
    let total: usize = counts.iter().product();
    let mut out = Vec::with_capacity(total * elem);
    for mut flat in 0..total {
        let mut src = 0usize;
        let mut stride = 1usize;
        for (k, r) in region.0.iter().enumerate() {
            let i = flat % counts[k];
            flat /= counts[k];
            src += (r.start as isize + i as isize * r.step) as usize * stride;
            stride *= shape[k];
        }
        out.extend_from_slice(&full[src * elem..(src + 1) * elem]);
    }
    out
}

fn random_region(shape: &[usize], rng: &mut Lcg) -> Region {
    Region(
        shape
            .iter()
            .map(|&n| {
                let step = [1isize, 1, 2, 3, -1, -2][rng.below(6)];
                let start = rng.below(n);
                let room = if step > 0 {
                    (n - 1 - start) / step as usize + 1
                } else {
                    start / (-step) as usize + 1
                };
                AxisRange {
                    start,
                    step,
                    count: rng.below(room) + 1,
                }
            })
            .collect(),
    )
}

#[test]
fn regions_equal_slices_of_the_full_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(11);
    for (shape, dtype, endian) in [
        (vec![9usize, 7, 5], DataType::I16, Endian::Big),
        (vec![6, 5, 4, 3], DataType::F64, Endian::Little),
        (vec![4, 3, 3, 2, 2], DataType::Rgb24, Endian::Little),
    ] {
        let n: usize = shape.iter().product();
        let native = native_data(dtype, n, &mut rng);
        let file = single_file(&shape, dtype, endian, &native);
        for (name, bytes) in [("r.nii", file.clone()), ("r.nii.gz", gzip(&file))] {
            let p = put(dir.path(), name, &bytes);
            let img = NiftiFile::open(&p).unwrap();
            let full = img.read_raw(None).unwrap();
            for _ in 0..200 {
                let region = random_region(&shape, &mut rng);
                let got = img.read_raw(Some(&region)).unwrap();
                assert_eq!(got.shape, region.shape());
                assert_eq!(
                    got.data.bytes(),
                    naive_region(full.data.bytes(), &shape, dtype.size(), &region).as_slice(),
                    "{name} {region:?}"
                );
            }
        }
    }
}

#[test]
fn scaling_follows_nibabel() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [3usize, 2, 1];
    let native: Vec<u8> = [1i16, -2, 3, 400, -5, 6]
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect();
    let mut fields = nifti1_fields(&shape, DataType::I16, 352.0);
    set(&mut fields, "scl_slope", FieldValue::Float(2.5));
    set(&mut fields, "scl_inter", FieldValue::Float(-3.0));
    let mut f = header_bytes(Format::Nifti1, Endian::Little, &fields);
    f.extend(&native);
    let p = put(dir.path(), "s.nii", &f);
    let arr = tioxide::read(&p, None).unwrap();
    assert_eq!(arr.dtype, DataType::F64);
    let got: Vec<f64> = arr.data.as_slice::<f64>().unwrap().to_vec();
    assert_eq!(got, vec![-0.5, -8.0, 4.5, 997.0, -15.5, 12.0]);
    for slope in [0.0, f64::NAN] {
        set(&mut fields, "scl_slope", FieldValue::Float(slope));
        let mut f = header_bytes(Format::Nifti1, Endian::Little, &fields);
        f.extend(&native);
        let p = put(dir.path(), "u.nii", &f);
        let arr = tioxide::read(&p, None).unwrap();
        assert_eq!(arr.dtype, DataType::I16, "slope {slope} means no scaling");
    }
}

#[test]
fn pairs_and_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [2usize, 2, 2];
    let native: Vec<u8> = (0u8..8).collect();
    let mut fields = nifti1_fields(&shape, DataType::U8, 0.0);
    set(&mut fields, "magic", FieldValue::Bytes(b"ni1".to_vec()));
    let mut hdr = serialize(Format::Nifti1, Endian::Little, &fields);
    // Extension flag, then one 32-byte extension (code 6, comment).
    hdr.extend_from_slice(&[1, 0, 0, 0]);
    hdr.extend_from_slice(&32i32.to_le_bytes());
    hdr.extend_from_slice(&6i32.to_le_bytes());
    let mut content = b"hello extension".to_vec();
    content.resize(24, 0);
    hdr.extend_from_slice(&content);
    put(dir.path(), "p.hdr", &hdr);
    put(dir.path(), "p.img", &native);
    for name in ["p.hdr", "p.img"] {
        let img = NiftiFile::open(dir.path().join(name)).unwrap();
        assert!(img.paths().pair);
        assert_eq!(img.header().extensions().len(), 1);
        assert_eq!(img.header().extensions()[0].code, 6);
        assert_eq!(
            &img.header().extensions()[0].content[..15],
            b"hello extension"
        );
        assert_eq!(img.read(None).unwrap().data.bytes(), native.as_slice());
    }
    // ANALYZE: no magic, only valid as a pair.
    let mut afields = nifti1_fields(&shape, DataType::U8, 0.0);
    set(&mut afields, "magic", FieldValue::Bytes(Vec::new()));
    let ahdr = serialize(Format::Analyze, Endian::Big, &afields);
    put(dir.path(), "a.hdr", &ahdr);
    put(dir.path(), "a.img", &native);
    let img = NiftiFile::open(dir.path().join("a.hdr")).unwrap();
    assert_eq!(img.header().format(), Format::Analyze);
    assert_eq!(img.header().endian(), Endian::Big);
    assert_eq!(img.read(None).unwrap().data.bytes(), native.as_slice());
    // The gzip of each half of a pair.
    put(dir.path(), "g.hdr.gz", &gzip(&hdr));
    put(dir.path(), "g.img.gz", &gzip(&native));
    let img = NiftiFile::open(dir.path().join("g.img.gz")).unwrap();
    assert_eq!(img.read(None).unwrap().data.bytes(), native.as_slice());
}

#[test]
fn multi_member_gzip_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(3);
    let shape = [16usize, 16, 16];
    let native = native_data(DataType::I16, 4096, &mut rng);
    let file = single_file(&shape, DataType::I16, Endian::Little, &native);
    let mut multi = Vec::new();
    for chunk in file.chunks(1000) {
        multi.extend(gzip(chunk));
    }
    multi.extend(gzip(&[])); // an empty member
    let p = put(dir.path(), "m.nii.gz", &multi);
    let img = NiftiFile::open(&p).unwrap();
    assert_eq!(img.read(None).unwrap().data.bytes(), native.as_slice());
    let region = Region(vec![
        AxisRange::span(3, 9),
        AxisRange::span(15, 16),
        AxisRange::span(7, 12),
    ]);
    let full = img.read(None).unwrap();
    assert_eq!(
        img.read(Some(&region)).unwrap().data.bytes(),
        naive_region(full.data.bytes(), &shape, 2, &region).as_slice()
    );
}

#[test]
fn odd_vox_offset_gzip_gives_aligned_voxels() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<f64> = (0..24).map(|i| i as f64 * 0.5).collect();
    let native: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    let mut fields = nifti1_fields(&[4, 3, 2], DataType::F64, 356.0);
    set(&mut fields, "scl_slope", FieldValue::Float(0.0));
    let mut f = header_bytes(Format::Nifti1, Endian::Little, &fields);
    f.extend_from_slice(&[0u8; 4]);
    f.extend(&native);
    let p = put(dir.path(), "odd.nii.gz", &gzip(&f));
    let arr = tioxide::read(&p, None).unwrap();
    assert_eq!(arr.data.offset() % 16, 0);
    assert_eq!(arr.data.as_slice::<f64>().unwrap(), values.as_slice());
}

/// A region read maps the file its path names when it reads: not the one
/// a header read left open, once another file has been renamed into place.
#[test]
fn a_region_read_maps_the_file_the_path_names_now() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [8usize, 6, 4];
    let mut rng = Lcg(5);
    let old = native_data(DataType::I16, 8 * 6 * 4, &mut rng);
    let new = native_data(DataType::I16, 8 * 6 * 4, &mut rng);
    assert_ne!(old, new);
    let region = Region(vec![
        AxisRange {
            start: 1,
            step: 1,
            count: 5,
        },
        AxisRange {
            start: 2,
            step: 2,
            count: 2,
        },
        AxisRange {
            start: 0,
            step: 1,
            count: 3,
        },
    ]);
    let path = put(
        dir.path(),
        "x.nii",
        &single_file(&shape, DataType::I16, Endian::Little, &old),
    );
    let img = NiftiFile::open(&path).unwrap();
    let other = put(
        dir.path(),
        "y.nii",
        &single_file(&shape, DataType::I16, Endian::Little, &new),
    );
    std::fs::rename(&other, &path).unwrap();
    let got = img.read_raw(Some(&region)).unwrap();
    assert_eq!(
        got.data.bytes(),
        naive_region(&new, &shape, 2, &region).as_slice()
    );
    // Opened and read with nothing replaced: the file left open is read.
    tioxide::cache::clear();
    let img = NiftiFile::open(&path).unwrap();
    let got = img.read_raw(Some(&region)).unwrap();
    assert_eq!(
        got.data.bytes(),
        naive_region(&new, &shape, 2, &region).as_slice()
    );
}
