//! Voxels handed to numpy as an array of their own dtype and shape.
//!
//! The general path hands Python the words and lets it view, slice and
//! reshape them (four numpy calls, about 1.3 µs): a tenth of a hot patch.
//! Here the final array is made in one call, still without a copy.

use numpy::ndarray::{ArrayView, IxDyn, ShapeBuilder};
use numpy::{Complex32, Complex64, Element, PyArray};
use pyo3::prelude::*;
use tioxide::{DataType, NiftiArray};

use crate::io::Voxels;

/// `array` as a Fortran-ordered numpy array of its dtype, or `None` for
/// RGB voxels (a structured dtype the caller builds).
pub fn to_ndarray<'py>(py: Python<'py>, array: NiftiArray) -> PyResult<Option<Bound<'py, PyAny>>> {
    match array.dtype {
        DataType::U8 => typed::<u8>(py, array),
        DataType::I8 => typed::<i8>(py, array),
        DataType::I16 => typed::<i16>(py, array),
        DataType::U16 => typed::<u16>(py, array),
        DataType::I32 => typed::<i32>(py, array),
        DataType::U32 => typed::<u32>(py, array),
        DataType::I64 => typed::<i64>(py, array),
        DataType::U64 => typed::<u64>(py, array),
        DataType::F32 => typed::<f32>(py, array),
        DataType::F64 => typed::<f64>(py, array),
        DataType::C64 => typed::<Complex32>(py, array),
        DataType::C128 => typed::<Complex64>(py, array),
        DataType::Rgb24 | DataType::Rgba32 => Ok(None),
    }
}

fn typed<'py, T: Element>(
    py: Python<'py>,
    array: NiftiArray,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let NiftiArray { data, shape, .. } = array;
    let filled_on = data.filled_on();
    let (words, offset, len) = data.into_parts();
    let count: Option<usize> = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let fits = count.and_then(|n| n.checked_mul(size_of::<T>())) == Some(len)
        && offset % align_of::<T>() == 0
        && offset
            .checked_add(len)
            .is_some_and(|end| end <= words.len() * 8);
    if !fits {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "voxel buffer does not match its shape and dtype",
        ));
    }
    let owner = Bound::new(py, Voxels(words, filled_on))?;
    let base = owner.get().0.as_ptr().cast::<u8>();
    // SAFETY: `offset + len` bytes lie inside the words (checked above), the
    // offset keeps `T`'s alignment (words are 8-aligned, 8 >= align of any
    // T here, and `offset` is a multiple of T's), and they hold `len / size
    // of T` elements, the product of `shape`. Every bit pattern is a valid
    // T (plain numbers). The words live in `owner`, frozen, never moved or
    // changed by Rust, and `owner` becomes the array's base: they outlive it.
    let view =
        unsafe { ArrayView::from_shape_ptr(IxDyn(&shape).f(), base.add(offset).cast::<T>()) };
    // SAFETY: as above: `owner` keeps the viewed memory alive and unmoved.
    let out = unsafe { PyArray::<T, IxDyn>::borrow_from_array(&view, owner.into_any()) };
    Ok(Some(out.into_any()))
}
