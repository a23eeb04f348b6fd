//! NIfTI-1 / NIfTI-2 / ANALYZE 7.5 headers: parse, validate, list and serialise.
//!
//! Parsing follows nibabel's reading rules, including the silent fixes nibabel
//! applies when it loads a header (non-positive `pixdim[1:4]`, a `qfac` other
//! than +-1, unknown xform codes, a `bitpix` that disagrees with `datatype`),
//! so that every field and every derived quantity equals what nibabel reports.
//! Problems nibabel refuses (bad magic, unknown datatype, a `vox_offset` inside
//! the header) are errors here too, each naming the offending field.

use crate::affine::{self, Affine};
use crate::dtype::{DataType, Endian};
use crate::error::{Error, Result};
use crate::layout::{FieldDef, Kind, ANALYZE, NIFTI1, NIFTI2};

/// Which header format a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// ANALYZE 7.5 (`.hdr`/`.img` without a NIfTI magic).
    Analyze,
    /// NIfTI-1 (348-byte header).
    Nifti1,
    /// NIfTI-2 (540-byte header).
    Nifti2,
}

impl Format {
    /// Size of the fixed header in bytes.
    pub fn header_size(self) -> usize {
        match self {
            Format::Analyze | Format::Nifti1 => 348,
            Format::Nifti2 => 540,
        }
    }

    /// The field table for this format.
    pub fn layout(self) -> &'static [FieldDef] {
        match self {
            Format::Analyze => ANALYZE,
            Format::Nifti1 => NIFTI1,
            Format::Nifti2 => NIFTI2,
        }
    }

    /// Smallest `vox_offset` of a single-file image (header + 4 extension flag bytes).
    pub fn min_single_offset(self) -> u64 {
        self.header_size() as u64 + 4
    }
}

/// The value of one header field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// An integer scalar.
    Int(i64),
    /// A float scalar (float32 fields are widened exactly).
    Float(f64),
    /// An integer array (`dim`, `origin`).
    Ints(Vec<i64>),
    /// A float array (`pixdim`, `srow_*`).
    Floats(Vec<f64>),
    /// A byte string, trailing NULs removed as numpy does for `S` fields.
    Bytes(Vec<u8>),
}

/// A header extension: its code and raw content (without the 8-byte esize/ecode prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// `ecode` (e.g. 4 = AFNI, 6 = comment, 32 = CIFTI).
    pub code: i32,
    /// The extension's bytes.
    pub content: Vec<u8>,
}

/// A parsed, validated header.
#[derive(Debug, Clone, PartialEq)]
pub struct NiftiHeader {
    format: Format,
    endian: Endian,
    single_file: bool,
    fields: Vec<(&'static str, FieldValue)>,
    extensions: Vec<Extension>,
    datatype: DataType,
    shape: Vec<usize>,
    vox_offset: u64,
}

fn field_bytes<'a>(raw: &'a [u8], d: &FieldDef) -> &'a [u8] {
    &raw[d.offset..d.offset + d.kind.size() * d.count]
}

fn read_scalar(b: &[u8], kind: Kind, endian: Endian) -> FieldValue {
    macro_rules! num {
        ($t:ty) => {{
            let mut a = [0u8; std::mem::size_of::<$t>()];
            a.copy_from_slice(b);
            match endian {
                Endian::Little => <$t>::from_le_bytes(a),
                Endian::Big => <$t>::from_be_bytes(a),
            }
        }};
    }
    match kind {
        Kind::U8 => FieldValue::Int(i64::from(b[0])),
        Kind::I16 => FieldValue::Int(i64::from(num!(i16))),
        Kind::I32 => FieldValue::Int(i64::from(num!(i32))),
        Kind::I64 => FieldValue::Int(num!(i64)),
        Kind::F32 => FieldValue::Float(f64::from(num!(f32))),
        Kind::F64 => FieldValue::Float(num!(f64)),
        Kind::Bytes => {
            let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
            FieldValue::Bytes(b[..end].to_vec())
        }
    }
}

fn read_field(raw: &[u8], d: &FieldDef, endian: Endian) -> FieldValue {
    let bytes = field_bytes(raw, d);
    if d.kind == Kind::Bytes || d.count == 1 {
        return read_scalar(bytes, d.kind, endian);
    }
    let items = bytes
        .chunks_exact(d.kind.size())
        .map(|c| read_scalar(c, d.kind, endian));
    match d.kind {
        Kind::F32 | Kind::F64 => FieldValue::Floats(
            items
                .map(|v| {
                    if let FieldValue::Float(x) = v {
                        x
                    } else {
                        f64::NAN
                    }
                })
                .collect(),
        ),
        _ => FieldValue::Ints(
            items
                .map(|v| if let FieldValue::Int(x) = v { x } else { 0 })
                .collect(),
        ),
    }
}

/// Work out format and byte order from `sizeof_hdr`.
pub fn sniff(raw: &[u8]) -> Result<(Format, Endian)> {
    if raw.len() < 4 {
        return Err(Error::TruncatedFile {
            what: "header (sizeof_hdr)",
            expected: 4,
            got: raw.len() as u64,
        });
    }
    let b = [raw[0], raw[1], raw[2], raw[3]];
    let (le, be) = (i32::from_le_bytes(b), i32::from_be_bytes(b));
    let endian = match (le, be) {
        (348 | 540, _) => Endian::Little,
        (_, 348 | 540) => Endian::Big,
        _ => {
            return Err(Error::BadSizeofHdr {
                little: le,
                big: be,
            })
        }
    };
    let size = if endian == Endian::Little { le } else { be };
    let format = if size == 540 {
        Format::Nifti2
    } else if raw.len() >= 348 && matches!(&raw[344..348], b"n+1\0" | b"ni1\0") {
        Format::Nifti1
    } else {
        Format::Analyze
    };
    Ok((format, endian))
}

impl NiftiHeader {
    /// Parse the fixed part of a header from `raw` (at least 348/540 bytes).
    ///
    /// `pair` is true when the header comes from the `.hdr` of a `.hdr`/`.img`
    /// pair, where a header without a NIfTI magic is read as ANALYZE 7.5; a
    /// `.nii` needs a magic, and its voxels must lie past the header whatever
    /// the magic says (nibabel reads a pair magic in a `.nii` as a single file).
    pub fn parse(raw: &[u8], pair: bool) -> Result<NiftiHeader> {
        let (format, endian) = sniff(raw)?;
        let size = format.header_size();
        if raw.len() < size {
            return Err(Error::TruncatedFile {
                what: "header",
                expected: size as u64,
                got: raw.len() as u64,
            });
        }
        let mut fields: Vec<(&'static str, FieldValue)> = format
            .layout()
            .iter()
            .map(|d| (d.name, read_field(raw, d, endian)))
            .collect();
        let single_file = match format {
            Format::Nifti1 => &raw[344..348] == b"n+1\0",
            Format::Nifti2 => match &raw[4..8] {
                b"n+2\0" => true,
                b"ni2\0" => false,
                other => {
                    return Err(Error::BadMagic {
                        found: String::from_utf8_lossy(other)
                            .trim_end_matches('\0')
                            .to_string(),
                        expected: "\"n+2\" or \"ni2\" (NIfTI-2)",
                    })
                }
            },
            Format::Analyze if pair => false,
            Format::Analyze => {
                return Err(Error::BadMagic {
                    found: String::from_utf8_lossy(&raw[344..348])
                        .trim_end_matches('\0')
                        .to_string(),
                    expected: "\"n+1\" (single-file NIfTI-1) in a .nii file",
                })
            }
        };
        let mut h = NiftiHeader {
            format,
            endian,
            single_file,
            fields: Vec::new(),
            extensions: Vec::new(),
            datatype: DataType::U8,
            shape: Vec::new(),
            vox_offset: 0,
        };
        apply_nibabel_fixes(&mut fields, format);
        h.fields = fields;
        h.datatype = DataType::from_code(
            i16::try_from(h.int("datatype")).map_err(|_| Error::UnsupportedDatatype(i16::MIN))?,
        )?;
        h.set_int("bitpix", 8 * h.datatype.size() as i64);
        h.shape = validate_dims(&h.ints("dim"))?;
        h.vox_offset = h.validate_vox_offset(pair)?;
        h.scaling()?;
        Ok(h)
    }

    fn validate_vox_offset(&self, pair: bool) -> Result<u64> {
        let raw = self.number("vox_offset");
        if !raw.is_finite() || raw < 0.0 || raw > 2f64.powi(62) {
            return Err(Error::header(
                "vox_offset",
                format!("{raw} is not a valid byte offset"),
            ));
        }
        // nibabel truncates a fractional float offset.
        let off = raw as u64;
        let min = self.format.min_single_offset();
        if (self.single_file || !pair) && off < min {
            return Err(Error::header(
                "vox_offset",
                format!("{off} lies inside the header; a single-file image needs at least {min}"),
            ));
        }
        Ok(off)
    }

    /// Parse extensions from the bytes that follow the fixed header
    /// (up to `vox_offset` for single files, to the end of a `.hdr`).
    ///
    /// As nibabel: in a single file, fewer than 16 bytes left before the
    /// voxels end the list; contents lose their trailing NUL padding.
    pub fn parse_extensions(&mut self, tail: &[u8], single_file: bool) -> Result<()> {
        self.extensions.clear();
        if tail.len() < 4 || tail[0] == 0 {
            return Ok(());
        }
        let least = if single_file { 16 } else { 8 };
        let mut pos = 4usize;
        while pos < tail.len() {
            if tail.len() - pos < least {
                break;
            }
            let word = |o: usize| {
                let a = [tail[o], tail[o + 1], tail[o + 2], tail[o + 3]];
                match self.endian {
                    Endian::Little => i32::from_le_bytes(a),
                    Endian::Big => i32::from_be_bytes(a),
                }
            };
            let (esize, ecode) = (word(pos), word(pos + 4));
            if esize == 0 && ecode == 0 {
                break;
            }
            let size = usize::try_from(esize).unwrap_or(0);
            if size < 8 || size > tail.len() - pos {
                return Err(Error::header(
                    "extension",
                    format!(
                        "extension at byte {} claims esize {esize} but only {} bytes remain before the data",
                        self.format.header_size() + pos,
                        tail.len() - pos
                    ),
                ));
            }
            let content = &tail[pos + 8..pos + size];
            let end = content.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
            self.extensions.push(Extension {
                code: ecode,
                content: content[..end].to_vec(),
            });
            pos += size;
        }
        Ok(())
    }

    /// Header format.
    pub fn format(&self) -> Format {
        self.format
    }
    /// Byte order of header and data.
    pub fn endian(&self) -> Endian {
        self.endian
    }
    /// True for `n+1`/`n+2` (header and data in one file).
    pub fn is_single_file(&self) -> bool {
        self.single_file
    }
    /// Voxel type.
    pub fn datatype(&self) -> DataType {
        self.datatype
    }
    /// Data shape (`dim[1..=dim[0]]`), in file (Fortran) order.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    /// Byte offset of the voxels in the data file.
    pub fn vox_offset(&self) -> u64 {
        self.vox_offset
    }
    /// Header extensions, raw.
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }
    /// Number of voxels.
    pub fn num_voxels(&self) -> usize {
        self.shape.iter().product()
    }
    /// Bytes of voxel data (validated not to overflow when parsed).
    pub fn data_bytes(&self) -> usize {
        self.num_voxels() * self.datatype.size()
    }

    /// All fields, in header order, after nibabel's load-time fixes.
    pub fn fields(&self) -> &[(&'static str, FieldValue)] {
        &self.fields
    }

    /// A field by name.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// An integer field (0 if absent or not an integer).
    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Some(FieldValue::Int(v)) => *v,
            _ => 0,
        }
    }

    /// A float field (NaN if absent or not a float).
    pub fn float(&self, name: &str) -> f64 {
        match self.get(name) {
            Some(FieldValue::Float(v)) => *v,
            _ => f64::NAN,
        }
    }

    /// A numeric scalar field as f64, whatever its storage type (NaN if absent).
    pub fn number(&self, name: &str) -> f64 {
        match self.get(name) {
            Some(FieldValue::Int(v)) => *v as f64,
            Some(FieldValue::Float(v)) => *v,
            _ => f64::NAN,
        }
    }

    /// An integer array field (empty if absent).
    pub fn ints(&self, name: &str) -> Vec<i64> {
        match self.get(name) {
            Some(FieldValue::Ints(v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    /// A float array field (empty if absent).
    pub fn floats(&self, name: &str) -> Vec<f64> {
        match self.get(name) {
            Some(FieldValue::Floats(v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    fn set_int(&mut self, name: &str, value: i64) {
        if let Some((_, v)) = self.fields.iter_mut().find(|(n, _)| *n == name) {
            *v = FieldValue::Int(value);
        }
    }

    /// `(slope, intercept)` to apply on read, or `None` for raw values,
    /// following nibabel (`scl_slope` 0 or non-finite means no scaling;
    /// ANALYZE uses SPM2's rules).
    pub fn scaling(&self) -> Result<Option<(f64, f64)>> {
        let slope = self.float("scl_slope");
        let pair = match self.format {
            Format::Nifti1 | Format::Nifti2 => {
                if slope == 0.0 || !slope.is_finite() {
                    return Ok(None);
                }
                let inter = self.float("scl_inter");
                if !inter.is_finite() {
                    return Err(Error::header(
                        "scl_inter",
                        format!("{inter} is not finite while scl_slope is {slope}"),
                    ));
                }
                (slope, inter)
            }
            Format::Analyze => {
                if slope.is_finite() && slope != 0.0 {
                    let inter = self.float("scl_inter");
                    (slope, if inter.is_finite() { inter } else { 0.0 })
                } else {
                    let unscaled = self.int("glmax") - self.int("glmin");
                    let scaled =
                        (self.float("cal_max") as f32 - self.float("cal_min") as f32) as f64;
                    if unscaled != 0 && scaled != 0.0 {
                        let s = scaled / unscaled as f64;
                        (s, self.float("cal_min") - s * self.int("glmin") as f64)
                    } else {
                        return Ok(None);
                    }
                }
            }
        };
        if pair == (1.0, 0.0) || self.datatype.is_rgb() {
            return Ok(None);
        }
        Ok(Some(pair))
    }

    /// nibabel's voxel sizes (`get_zooms()`): `pixdim[1..=ndim]`.
    pub fn zooms(&self) -> Vec<f64> {
        let pixdim = self.floats("pixdim");
        (1..=self.shape.len())
            .map(|i| pixdim.get(i).copied().unwrap_or(1.0))
            .collect()
    }

    /// The best affine, as nibabel's `get_best_affine()`.
    pub fn affine(&self) -> Result<Affine> {
        affine::best_affine(self)
    }
}

fn validate_dims(dim: &[i64]) -> Result<Vec<usize>> {
    let bad = |reason: String| Error::InvalidDim {
        dim: dim.to_vec(),
        reason,
    };
    let ndim = *dim.first().unwrap_or(&0);
    if !(1..=7).contains(&ndim) {
        return Err(bad(format!("dim[0] = {ndim} must be between 1 and 7")));
    }
    let mut shape = Vec::with_capacity(ndim as usize);
    let mut total: u64 = 1;
    for (i, &d) in dim.iter().enumerate().skip(1).take(ndim as usize) {
        if d < 1 {
            return Err(bad(format!("dim[{i}] = {d} must be positive")));
        }
        total = total
            .checked_mul(d as u64)
            .filter(|&t| t <= (1u64 << 56))
            .ok_or_else(|| bad("more than 2^56 voxels (no file can hold them)".into()))?;
        shape.push(usize::try_from(d).map_err(|_| bad(format!("dim[{i}] too large")))?);
    }
    Ok(shape)
}

fn apply_nibabel_fixes(fields: &mut [(&'static str, FieldValue)], format: Format) {
    let is_nifti = format != Format::Analyze;
    for (name, value) in fields.iter_mut() {
        match (*name, value) {
            ("pixdim", FieldValue::Floats(p)) => {
                for v in p.iter_mut().take(4).skip(1) {
                    if *v == 0.0 {
                        *v = 1.0;
                    } else if *v < 0.0 {
                        *v = -*v;
                    }
                }
                if is_nifti && p[0] != 1.0 && p[0] != -1.0 {
                    p[0] = 1.0;
                }
            }
            ("qform_code" | "sform_code", FieldValue::Int(code))
                if is_nifti && !(0..=5).contains(code) =>
            {
                *code = 0;
            }
            _ => {}
        }
    }
}

/// Serialise a header in the given byte order from name/value pairs;
/// fields not given are zero. Used by the writer and by tests.
pub fn serialize(format: Format, endian: Endian, values: &[(&str, FieldValue)]) -> Vec<u8> {
    let mut out = vec![0u8; format.header_size()];
    for d in format.layout() {
        let Some((_, v)) = values.iter().find(|(n, _)| *n == d.name) else {
            continue;
        };
        let dst = &mut out[d.offset..d.offset + d.kind.size() * d.count];
        let put = |dst: &mut [u8], x: f64, i: i64| {
            match d.kind {
                Kind::U8 => dst[0] = i as u8,
                Kind::I16 => dst.copy_from_slice(&(i as i16).to_ne_bytes()),
                Kind::I32 => dst.copy_from_slice(&(i as i32).to_ne_bytes()),
                Kind::I64 => dst.copy_from_slice(&i.to_ne_bytes()),
                Kind::F32 => dst.copy_from_slice(&(x as f32).to_ne_bytes()),
                Kind::F64 => dst.copy_from_slice(&x.to_ne_bytes()),
                Kind::Bytes => {}
            }
            if endian != Endian::NATIVE {
                dst.reverse();
            }
        };
        let size = d.kind.size();
        match v {
            FieldValue::Int(i) => put(&mut dst[..size], *i as f64, *i),
            FieldValue::Float(x) => put(&mut dst[..size], *x, *x as i64),
            FieldValue::Ints(xs) => {
                for (c, i) in dst.chunks_exact_mut(size).zip(xs) {
                    put(c, *i as f64, *i);
                }
            }
            FieldValue::Floats(xs) => {
                for (c, x) in dst.chunks_exact_mut(size).zip(xs) {
                    put(c, *x, *x as i64);
                }
            }
            FieldValue::Bytes(b) => {
                let n = b.len().min(dst.len());
                dst[..n].copy_from_slice(&b[..n]);
            }
        }
    }
    out
}
