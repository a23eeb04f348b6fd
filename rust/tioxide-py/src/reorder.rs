//! `copy_c_order(src, dst)`: a strided 3-D array copied into a C-contiguous
//! one of the same shape, without the GIL (stacking patches into batches).

use numpy::{Element, PyReadonlyArray3, PyReadwriteArray3, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

/// Copy `src` (any non-negative strides) into `dst` (C-contiguous, same
/// shape and dtype; both unsigned integers of 1, 2, 4 or 8 bytes, as the
/// caller views other dtypes).
#[pyfunction]
pub fn copy_c_order(
    py: Python<'_>,
    src: &Bound<'_, PyAny>,
    dst: &Bound<'_, PyAny>,
) -> PyResult<()> {
    if let (Ok(s), Ok(d)) = (src.extract(), dst.extract()) {
        return typed::<u8>(py, s, d);
    }
    if let (Ok(s), Ok(d)) = (src.extract(), dst.extract()) {
        return typed::<u16>(py, s, d);
    }
    if let (Ok(s), Ok(d)) = (src.extract(), dst.extract()) {
        return typed::<u32>(py, s, d);
    }
    if let (Ok(s), Ok(d)) = (src.extract(), dst.extract()) {
        return typed::<u64>(py, s, d);
    }
    Err(PyTypeError::new_err(
        "copy_c_order takes two 3-D arrays of the same unsigned integer dtype (the second writable)",
    ))
}

fn typed<T: Element + tioxide::reorder::Bits + Send + Sync>(
    py: Python<'_>,
    src: PyReadonlyArray3<'_, T>,
    mut dst: PyReadwriteArray3<'_, T>,
) -> PyResult<()> {
    let view = src.as_array();
    let shape: [usize; 3] = view.dim().into();
    if dst.shape() != shape {
        return Err(PyValueError::new_err(format!(
            "shapes differ: {:?} into {:?}",
            shape,
            dst.shape()
        )));
    }
    let mut strides = [0usize; 3];
    for (out, &s) in strides.iter_mut().zip(view.strides()) {
        *out = usize::try_from(s)
            .map_err(|_| PyValueError::new_err("negative strides are not supported"))?;
    }
    // Elements from the first to the last one addressed (0 for an empty array).
    let extent = if shape.contains(&0) {
        0
    } else {
        (0..3).map(|d| (shape[d] - 1) * strides[d]).sum::<usize>() + 1
    };
    // SAFETY: `view` borrows the array (numpy's borrow checker holds it
    // read-only while `src` lives) and every element it addresses lies in
    // `ptr..ptr + extent`, inside the array's single allocation.
    let input: &[T] = unsafe { std::slice::from_raw_parts(view.as_ptr(), extent) };
    // (`as_slice_mut` also takes Fortran-contiguous arrays.)
    if !dst.is_c_contiguous() {
        return Err(PyValueError::new_err("the output must be C-contiguous"));
    }
    let output = dst
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err("the output must be C-contiguous"))?;
    py.detach(|| tioxide::reorder::copy_to_c_order(input, strides, shape, output))
        .map_err(|e| PyValueError::new_err(e.to_string()))
}
