//! Byte layouts of the ANALYZE 7.5, NIfTI-1 and NIfTI-2 headers.
//!
//! Headers are described as tables rather than structs so that parsing,
//! serialising and listing "every field by its NIfTI name" share one source of
//! truth, and so that names match nibabel's (`Spm2AnalyzeHeader` names for
//! ANALYZE, as `nib.load` picks that class for ANALYZE pairs).

/// Storage type of a header field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// unsigned 8-bit integer
    U8,
    /// signed 16-bit integer
    I16,
    /// signed 32-bit integer
    I32,
    /// signed 64-bit integer
    I64,
    /// 32-bit float
    F32,
    /// 64-bit float
    F64,
    /// fixed-length byte string
    Bytes,
}

impl Kind {
    /// Bytes one element occupies.
    pub fn size(self) -> usize {
        match self {
            Kind::U8 | Kind::Bytes => 1,
            Kind::I16 => 2,
            Kind::I32 | Kind::F32 => 4,
            Kind::I64 | Kind::F64 => 8,
        }
    }
}

/// One field: its name, byte offset, storage type and element count
/// (`count > 1` for arrays; the length for byte strings).
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    /// NIfTI (nibabel) name.
    pub name: &'static str,
    /// Byte offset from the start of the header.
    pub offset: usize,
    /// Storage type.
    pub kind: Kind,
    /// Number of elements (array length or string length).
    pub count: usize,
}

const fn f(name: &'static str, offset: usize, kind: Kind, count: usize) -> FieldDef {
    FieldDef {
        name,
        offset,
        kind,
        count,
    }
}

use Kind::*;

/// NIfTI-1 (348 bytes).
pub const NIFTI1: &[FieldDef] = &[
    f("sizeof_hdr", 0, I32, 1),
    f("data_type", 4, Bytes, 10),
    f("db_name", 14, Bytes, 18),
    f("extents", 32, I32, 1),
    f("session_error", 36, I16, 1),
    f("regular", 38, Bytes, 1),
    f("dim_info", 39, U8, 1),
    f("dim", 40, I16, 8),
    f("intent_p1", 56, F32, 1),
    f("intent_p2", 60, F32, 1),
    f("intent_p3", 64, F32, 1),
    f("intent_code", 68, I16, 1),
    f("datatype", 70, I16, 1),
    f("bitpix", 72, I16, 1),
    f("slice_start", 74, I16, 1),
    f("pixdim", 76, F32, 8),
    f("vox_offset", 108, F32, 1),
    f("scl_slope", 112, F32, 1),
    f("scl_inter", 116, F32, 1),
    f("slice_end", 120, I16, 1),
    f("slice_code", 122, U8, 1),
    f("xyzt_units", 123, U8, 1),
    f("cal_max", 124, F32, 1),
    f("cal_min", 128, F32, 1),
    f("slice_duration", 132, F32, 1),
    f("toffset", 136, F32, 1),
    f("glmax", 140, I32, 1),
    f("glmin", 144, I32, 1),
    f("descrip", 148, Bytes, 80),
    f("aux_file", 228, Bytes, 24),
    f("qform_code", 252, I16, 1),
    f("sform_code", 254, I16, 1),
    f("quatern_b", 256, F32, 1),
    f("quatern_c", 260, F32, 1),
    f("quatern_d", 264, F32, 1),
    f("qoffset_x", 268, F32, 1),
    f("qoffset_y", 272, F32, 1),
    f("qoffset_z", 276, F32, 1),
    f("srow_x", 280, F32, 4),
    f("srow_y", 296, F32, 4),
    f("srow_z", 312, F32, 4),
    f("intent_name", 328, Bytes, 16),
    f("magic", 344, Bytes, 4),
];

/// NIfTI-2 (540 bytes).
pub const NIFTI2: &[FieldDef] = &[
    f("sizeof_hdr", 0, I32, 1),
    f("magic", 4, Bytes, 4),
    f("eol_check", 8, Bytes, 4),
    f("datatype", 12, I16, 1),
    f("bitpix", 14, I16, 1),
    f("dim", 16, I64, 8),
    f("intent_p1", 80, F64, 1),
    f("intent_p2", 88, F64, 1),
    f("intent_p3", 96, F64, 1),
    f("pixdim", 104, F64, 8),
    f("vox_offset", 168, I64, 1),
    f("scl_slope", 176, F64, 1),
    f("scl_inter", 184, F64, 1),
    f("cal_max", 192, F64, 1),
    f("cal_min", 200, F64, 1),
    f("slice_duration", 208, F64, 1),
    f("toffset", 216, F64, 1),
    f("slice_start", 224, I64, 1),
    f("slice_end", 232, I64, 1),
    f("descrip", 240, Bytes, 80),
    f("aux_file", 320, Bytes, 24),
    f("qform_code", 344, I32, 1),
    f("sform_code", 348, I32, 1),
    f("quatern_b", 352, F64, 1),
    f("quatern_c", 360, F64, 1),
    f("quatern_d", 368, F64, 1),
    f("qoffset_x", 376, F64, 1),
    f("qoffset_y", 384, F64, 1),
    f("qoffset_z", 392, F64, 1),
    f("srow_x", 400, F64, 4),
    f("srow_y", 432, F64, 4),
    f("srow_z", 464, F64, 4),
    f("slice_code", 496, I32, 1),
    f("xyzt_units", 500, I32, 1),
    f("intent_code", 504, I32, 1),
    f("intent_name", 508, Bytes, 16),
    f("dim_info", 524, U8, 1),
    f("unused_str", 525, Bytes, 15),
];

/// ANALYZE 7.5 with SPM2's reading of the unused fields (348 bytes).
pub const ANALYZE: &[FieldDef] = &[
    f("sizeof_hdr", 0, I32, 1),
    f("data_type", 4, Bytes, 10),
    f("db_name", 14, Bytes, 18),
    f("extents", 32, I32, 1),
    f("session_error", 36, I16, 1),
    f("regular", 38, Bytes, 1),
    f("hkey_un0", 39, Bytes, 1),
    f("dim", 40, I16, 8),
    f("vox_units", 56, Bytes, 4),
    f("cal_units", 60, Bytes, 8),
    f("unused1", 68, I16, 1),
    f("datatype", 70, I16, 1),
    f("bitpix", 72, I16, 1),
    f("dim_un0", 74, I16, 1),
    f("pixdim", 76, F32, 8),
    f("vox_offset", 108, F32, 1),
    f("scl_slope", 112, F32, 1),
    f("scl_inter", 116, F32, 1),
    f("funused3", 120, F32, 1),
    f("cal_max", 124, F32, 1),
    f("cal_min", 128, F32, 1),
    f("compressed", 132, I32, 1),
    f("verified", 136, I32, 1),
    f("glmax", 140, I32, 1),
    f("glmin", 144, I32, 1),
    f("descrip", 148, Bytes, 80),
    f("aux_file", 228, Bytes, 24),
    f("orient", 252, Bytes, 1),
    f("origin", 253, I16, 5),
    f("generated", 263, Bytes, 10),
    f("scannum", 273, Bytes, 10),
    f("patient_id", 283, Bytes, 10),
    f("exp_date", 293, Bytes, 10),
    f("exp_time", 303, Bytes, 10),
    f("hist_un0", 313, Bytes, 3),
    f("views", 316, I32, 1),
    f("vols_added", 320, I32, 1),
    f("start_field", 324, I32, 1),
    f("field_skip", 328, I32, 1),
    f("omax", 332, I32, 1),
    f("omin", 336, I32, 1),
    f("smax", 340, I32, 1),
    f("smin", 344, I32, 1),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn check_tiles(table: &[FieldDef], total: usize) {
        let mut end = 0;
        for d in table {
            assert_eq!(d.offset, end, "gap or overlap before {}", d.name);
            end = d.offset + d.kind.size() * d.count;
        }
        assert_eq!(end, total);
    }

    #[test]
    fn tables_tile_their_headers_exactly() {
        check_tiles(NIFTI1, 348);
        check_tiles(NIFTI2, 540);
        check_tiles(ANALYZE, 348);
    }
}
