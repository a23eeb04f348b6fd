//! NIfTI datatype codes, element sizes and in-place byte swapping.

use crate::error::{Error, Result};

/// The voxel types NIfTI defines and this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// `DT_UINT8` (2)
    U8,
    /// `DT_INT16` (4)
    I16,
    /// `DT_INT32` (8)
    I32,
    /// `DT_FLOAT32` (16)
    F32,
    /// `DT_COMPLEX64` (32): two float32
    C64,
    /// `DT_FLOAT64` (64)
    F64,
    /// `DT_RGB24` (128): three uint8
    Rgb24,
    /// `DT_INT8` (256)
    I8,
    /// `DT_UINT16` (512)
    U16,
    /// `DT_UINT32` (768)
    U32,
    /// `DT_INT64` (1024)
    I64,
    /// `DT_UINT64` (1280)
    U64,
    /// `DT_COMPLEX128` (1792): two float64
    C128,
    /// `DT_RGBA32` (2304): four uint8
    Rgba32,
}

impl DataType {
    /// All supported types, in code order.
    pub const ALL: [DataType; 14] = [
        DataType::U8,
        DataType::I16,
        DataType::I32,
        DataType::F32,
        DataType::C64,
        DataType::F64,
        DataType::Rgb24,
        DataType::I8,
        DataType::U16,
        DataType::U32,
        DataType::I64,
        DataType::U64,
        DataType::C128,
        DataType::Rgba32,
    ];

    /// Map a NIfTI `datatype` code to a type.
    pub fn from_code(code: i16) -> Result<DataType> {
        Ok(match code {
            2 => DataType::U8,
            4 => DataType::I16,
            8 => DataType::I32,
            16 => DataType::F32,
            32 => DataType::C64,
            64 => DataType::F64,
            128 => DataType::Rgb24,
            256 => DataType::I8,
            512 => DataType::U16,
            768 => DataType::U32,
            1024 => DataType::I64,
            1280 => DataType::U64,
            1792 => DataType::C128,
            2304 => DataType::Rgba32,
            other => return Err(Error::UnsupportedDatatype(other)),
        })
    }

    /// The NIfTI `datatype` code.
    pub fn code(self) -> i16 {
        match self {
            DataType::U8 => 2,
            DataType::I16 => 4,
            DataType::I32 => 8,
            DataType::F32 => 16,
            DataType::C64 => 32,
            DataType::F64 => 64,
            DataType::Rgb24 => 128,
            DataType::I8 => 256,
            DataType::U16 => 512,
            DataType::U32 => 768,
            DataType::I64 => 1024,
            DataType::U64 => 1280,
            DataType::C128 => 1792,
            DataType::Rgba32 => 2304,
        }
    }

    /// Bytes per voxel.
    pub fn size(self) -> usize {
        match self {
            DataType::U8 | DataType::I8 => 1,
            DataType::I16 | DataType::U16 => 2,
            DataType::Rgb24 => 3,
            DataType::I32 | DataType::U32 | DataType::F32 | DataType::Rgba32 => 4,
            DataType::I64 | DataType::U64 | DataType::F64 | DataType::C64 => 8,
            DataType::C128 => 16,
        }
    }

    /// Size of the scalar that byte order applies to (complex types swap each half).
    pub fn swap_unit(self) -> usize {
        match self {
            DataType::C64 => 4,
            DataType::C128 => 8,
            DataType::Rgb24 | DataType::Rgba32 => 1,
            other => other.size(),
        }
    }

    /// The numpy dtype string for this type in native byte order.
    pub fn numpy_str(self) -> &'static str {
        match self {
            DataType::U8 => "u1",
            DataType::I8 => "i1",
            DataType::I16 => "i2",
            DataType::U16 => "u2",
            DataType::I32 => "i4",
            DataType::U32 => "u4",
            DataType::I64 => "i8",
            DataType::U64 => "u8",
            DataType::F32 => "f4",
            DataType::F64 => "f8",
            DataType::C64 => "c8",
            DataType::C128 => "c16",
            DataType::Rgb24 => "RGB",
            DataType::Rgba32 => "RGBA",
        }
    }

    /// Parse [`DataType::numpy_str`] back.
    pub fn from_numpy_str(s: &str) -> Option<DataType> {
        DataType::ALL.into_iter().find(|d| d.numpy_str() == s)
    }

    /// True for the complex types.
    pub fn is_complex(self) -> bool {
        matches!(self, DataType::C64 | DataType::C128)
    }

    /// True for RGB24/RGBA32.
    pub fn is_rgb(self) -> bool {
        matches!(self, DataType::Rgb24 | DataType::Rgba32)
    }
}

/// Byte order of a header and its voxels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

impl Endian {
    /// The byte order of this machine.
    pub const NATIVE: Endian = if cfg!(target_endian = "big") {
        Endian::Big
    } else {
        Endian::Little
    };

    /// numpy's byte-order character for this order.
    pub fn numpy_char(self) -> char {
        match self {
            Endian::Little => '<',
            Endian::Big => '>',
        }
    }
}

/// Reverse the byte order of every `unit`-sized scalar in `bytes`.
pub fn swap_in_place(bytes: &mut [u8], unit: usize) {
    match unit {
        2 => bytes.chunks_exact_mut(2).for_each(|c| {
            c.copy_from_slice(&u16::from_ne_bytes([c[0], c[1]]).swap_bytes().to_ne_bytes())
        }),
        4 => bytes.chunks_exact_mut(4).for_each(|c| c.reverse()),
        8 => bytes.chunks_exact_mut(8).for_each(|c| c.reverse()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for d in DataType::ALL {
            assert_eq!(DataType::from_code(d.code()).ok(), Some(d));
            assert_eq!(DataType::from_numpy_str(d.numpy_str()), Some(d));
        }
    }

    #[test]
    fn unknown_codes_are_refused() {
        for code in [0, 1, 3, 1536, 2048, -4, 4096] {
            assert!(matches!(
                DataType::from_code(code),
                Err(Error::UnsupportedDatatype(c)) if c == code
            ));
        }
    }

    #[test]
    fn swapping_reverses_each_scalar() {
        let mut b = vec![1u8, 2, 3, 4, 5, 6, 7, 8];
        swap_in_place(&mut b, 4);
        assert_eq!(b, [4, 3, 2, 1, 8, 7, 6, 5]);
        swap_in_place(&mut b, 2);
        assert_eq!(b, [3, 4, 1, 2, 7, 8, 5, 6]);
        swap_in_place(&mut b, 8);
        assert_eq!(b, [6, 5, 8, 7, 2, 1, 4, 3]);
    }
}
