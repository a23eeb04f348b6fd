//! Builders for test images: headers in either byte order, any datatype,
//! plain or gzip, with hand-made damage.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use tioxide::header::serialize;
use tioxide::{DataType, Endian, FieldValue, Format};

/// A small deterministic generator (no external crates needed).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Fields of a simple valid NIfTI-1 header for `shape`/`dtype`.
pub fn nifti1_fields(
    shape: &[usize],
    dtype: DataType,
    vox_offset: f64,
) -> Vec<(&'static str, FieldValue)> {
    let mut dim = vec![shape.len() as i64];
    dim.extend(shape.iter().map(|&d| d as i64));
    dim.resize(8, 1);
    vec![
        ("sizeof_hdr", FieldValue::Int(348)),
        ("dim", FieldValue::Ints(dim)),
        ("datatype", FieldValue::Int(i64::from(dtype.code()))),
        ("bitpix", FieldValue::Int(8 * dtype.size() as i64)),
        (
            "pixdim",
            FieldValue::Floats(vec![1.0, 2.0, 3.0, 4.0, 1.0, 1.0, 1.0, 1.0]),
        ),
        ("vox_offset", FieldValue::Float(vox_offset)),
        ("scl_slope", FieldValue::Float(1.0)),
        ("magic", FieldValue::Bytes(b"n+1".to_vec())),
    ]
}

pub fn set(fields: &mut Vec<(&'static str, FieldValue)>, name: &'static str, v: FieldValue) {
    fields.retain(|(n, _)| *n != name);
    fields.push((name, v));
}

/// Header bytes plus the 4-byte extension flag.
pub fn header_bytes(
    format: Format,
    endian: Endian,
    fields: &[(&'static str, FieldValue)],
) -> Vec<u8> {
    let mut h = serialize(format, endian, fields);
    h.extend_from_slice(&[0, 0, 0, 0]);
    h
}

/// Voxels of `dtype` as stored with `endian` from native-order `native` bytes.
pub fn to_endian(native: &[u8], dtype: DataType, endian: Endian) -> Vec<u8> {
    let mut v = native.to_vec();
    if endian != Endian::NATIVE {
        tioxide::dtype::swap_in_place(&mut v, dtype.swap_unit());
    }
    v
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(6));
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub fn put(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A complete single-file image: header (+ flag) then voxels.
pub fn single_file(shape: &[usize], dtype: DataType, endian: Endian, native: &[u8]) -> Vec<u8> {
    let mut f = header_bytes(Format::Nifti1, endian, &nifti1_fields(shape, dtype, 352.0));
    f.extend(to_endian(native, dtype, endian));
    f
}
