//! Applying `scl_slope`/`scl_inter` the way nibabel's array proxy does.
//!
//! nibabel promotes the stored values and the float64 scale factors with
//! numpy's rules: real data becomes float64, complex data complex128, and
//! the slope is multiplied before the intercept is added (two roundings,
//! never a fused multiply-add).

use crate::buffer::VoxelBuffer;
use crate::dtype::DataType;
use crate::error::Result;

fn to_f64(dtype: DataType, c: &[u8]) -> f64 {
    macro_rules! ne {
        ($t:ty) => {
            <$t>::from_ne_bytes(c.try_into().unwrap_or_default()) as f64
        };
    }
    match dtype {
        DataType::U8 => f64::from(c[0]),
        DataType::I8 => f64::from(c[0] as i8),
        DataType::I16 => ne!(i16),
        DataType::U16 => ne!(u16),
        DataType::I32 => ne!(i32),
        DataType::U32 => ne!(u32),
        DataType::I64 => ne!(i64),
        DataType::U64 => ne!(u64),
        DataType::F32 | DataType::C64 => ne!(f32),
        DataType::F64 | DataType::C128 => ne!(f64),
        DataType::Rgb24 | DataType::Rgba32 => f64::from(c[0]),
    }
}

/// Scale native-endian values of `dtype`; returns the new buffer and type
/// (`F64`, or `C128` for complex input). RGB data is returned unchanged.
pub fn apply(
    data: &VoxelBuffer,
    dtype: DataType,
    slope: f64,
    inter: f64,
) -> Result<(VoxelBuffer, DataType)> {
    if dtype.is_rgb() {
        return Ok((data.clone(), dtype));
    }
    let scalar = dtype.swap_unit();
    let n = data.len() / scalar;
    let mut out = VoxelBuffer::for_overwrite(0, n * 8)?; // every value is written
    let complex = dtype.is_complex();
    let dst = out.bytes_mut();
    if complex {
        // numpy multiplies by `slope + 0j` and adds `inter + 0j`: the zero
        // imaginary parts matter for infinities (inf * 0 is NaN) and signed zeros.
        let pairs = data.bytes().chunks_exact(2 * scalar);
        for (pair, d) in pairs.zip(dst.chunks_exact_mut(16)) {
            let (a, b) = pair.split_at(scalar);
            let (mut re, mut im) = (to_f64(dtype, a), to_f64(dtype, b));
            if slope != 1.0 {
                (re, im) = (re * slope - im * 0.0, re * 0.0 + im * slope);
            }
            if inter != 0.0 {
                (re, im) = (re + inter, im + 0.0);
            }
            d[..8].copy_from_slice(&re.to_ne_bytes());
            d[8..].copy_from_slice(&im.to_ne_bytes());
        }
    } else {
        for (s, d) in data
            .bytes()
            .chunks_exact(scalar)
            .zip(dst.chunks_exact_mut(8))
        {
            let mut v = to_f64(dtype, s);
            if slope != 1.0 {
                v *= slope;
            }
            if inter != 0.0 {
                v += inter;
            }
            d.copy_from_slice(&v.to_ne_bytes());
        }
    }
    Ok((
        out,
        if complex {
            DataType::C128
        } else {
            DataType::F64
        },
    ))
}
