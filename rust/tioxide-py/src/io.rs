//! Reading and writing voxels.

use std::collections::HashMap;
use std::path::PathBuf;
use std::thread::ThreadId;

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyInt, PySlice, PyString, PyTuple};
use tioxide::{
    AxisRange, DataType, Extension, FieldValue, Format, NiftiArray, NiftiFile, Region, WriteOptions,
};

use crate::errors::to_py;

/// Raw result of a read: `(words, byte_offset, nbytes, dtype, shape)`; the
/// Python layer views `words` as `dtype` without copying.
pub type ReadResult<'py> = (
    Bound<'py, PyArray1<u64>>,
    usize,
    usize,
    &'static str,
    Vec<usize>,
);

/// Read voxels (scaled as nibabel does). `region`: one `(start, step, count)` per axis.
#[pyfunction]
#[pyo3(signature = (path, region=None))]
pub fn read<'py>(
    py: Python<'py>,
    path: PathBuf,
    region: Option<Vec<(usize, isize, usize)>>,
) -> PyResult<ReadResult<'py>> {
    let region = region_of(region);
    let array = py.detach(|| NiftiFile::open(&path).and_then(|f| f.read(region.as_ref())));
    crate::gz::flush_warnings(py)?;
    to_result(py, array.map_err(to_py)?)
}

/// Read the region `region` picks (as numpy indexing does) when it is a
/// tuple of slices whose fields are integers or `None`, opening the file
/// once, and give the voxels as an array of their dtype and shape. `None`
/// for any other index, slices that do not fit the image (more than its
/// axes, a zero step) and RGB voxels: the caller's general path then reads
/// them or names the problem.
#[pyfunction]
pub fn read_slices<'py>(
    py: Python<'py>,
    path: PathBuf,
    region: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(slices) = plain_slices(region) else {
        return Ok(None);
    };
    let array = py.detach(|| {
        let file = NiftiFile::open(&path)?;
        match Region::from_slices(file.header().shape(), &slices) {
            Some(region) => file.read(Some(&region)).map(Some),
            None => Ok(None),
        }
    });
    crate::gz::flush_warnings(py)?;
    match array.map_err(to_py)? {
        Some(array) => crate::ndarray::to_ndarray(py, array),
        None => Ok(None),
    }
}

/// `(start, stop, step)` of each slice of `region`, if it is a tuple of
/// slices with integer (`__index__`) or `None` fields within 64 bits.
fn plain_slices(region: &Bound<'_, PyAny>) -> Option<Vec<Bounds>> {
    let tuple = region.cast::<PyTuple>().ok()?;
    let py = region.py();
    let field = |s: &Bound<'_, PySlice>, name: &Bound<'_, PyString>| -> Option<Option<i64>> {
        let v = s.getattr(name).ok()?;
        if v.is_none() {
            return Some(None);
        }
        // Exact ints only, as numpy takes floats nowhere: anything else
        // (a float, a huge int) is left to the general path to refuse.
        v.cast::<PyInt>().ok()?.extract::<i64>().ok().map(Some)
    };
    let (start, stop, step) = (
        intern!(py, "start"),
        intern!(py, "stop"),
        intern!(py, "step"),
    );
    tuple
        .iter()
        .map(|item| {
            let s = item.cast::<PySlice>().ok()?;
            Some((field(s, start)?, field(s, stop)?, field(s, step)?))
        })
        .collect()
}

/// A slice's `(start, stop, step)`.
type Bounds = (Option<i64>, Option<i64>, Option<i64>);

/// Read several regions of one image (each as `read` would), inflating what
/// they share of a gzip stream once.
#[pyfunction]
pub fn read_many<'py>(
    py: Python<'py>,
    path: PathBuf,
    regions: Vec<Vec<(usize, isize, usize)>>,
) -> PyResult<Vec<ReadResult<'py>>> {
    let regions: Vec<Region> = regions
        .into_iter()
        .filter_map(|r| region_of(Some(r)))
        .collect();
    let arrays = py.detach(|| NiftiFile::open(&path).and_then(|f| f.read_many(&regions)));
    crate::gz::flush_warnings(py)?;
    arrays
        .map_err(to_py)?
        .into_iter()
        .map(|a| to_result(py, a))
        .collect()
}

/// Inflate a `.nii.gz` now and keep its voxels for the region reads that follow.
#[pyfunction]
pub fn prefetch(py: Python<'_>, path: PathBuf) -> PyResult<()> {
    let done = py.detach(|| NiftiFile::open(&path).and_then(|f| f.prefetch()));
    crate::gz::flush_warnings(py)?;
    done.map_err(to_py)
}

/// Drop the voxels `prefetch` kept for a `.nii.gz`.
#[pyfunction]
pub fn release(py: Python<'_>, path: PathBuf) -> PyResult<()> {
    py.detach(|| NiftiFile::open(&path).and_then(|f| f.release()))
        .map_err(to_py)
}

/// A region from `(start, step, count)` per axis.
pub fn region_of(region: Option<Vec<(usize, isize, usize)>>) -> Option<Region> {
    region.map(|r| {
        Region(
            r.into_iter()
                .map(|(start, step, count)| AxisRange { start, step, count })
                .collect(),
        )
    })
}

/// The storage of arrays handed to Python, and the thread whose
/// whole-volume read filled it: given back when the array dies, to the
/// core's buffer pool or to the allocator, so that the next read reuses its
/// memory (see `tioxide::pool::give_back`).
#[pyclass(frozen)]
pub struct Voxels(pub Vec<u64>, pub Option<ThreadId>);

impl Drop for Voxels {
    fn drop(&mut self) {
        tioxide::pool::give_back(std::mem::take(&mut self.0), self.1);
    }
}

/// Hand the voxels to Python without copying them.
pub fn to_result(py: Python<'_>, array: NiftiArray) -> PyResult<ReadResult<'_>> {
    let filled_on = array.data.filled_on();
    let (words, offset, len) = array.data.into_parts();
    let owner = Bound::new(py, Voxels(words, filled_on))?;
    let view = numpy::ndarray::ArrayView1::from(owner.get().0.as_slice());
    // SAFETY: the array's base is `owner`, which owns the words and never
    // changes them (frozen, no method touches them), so they stay where
    // they are for as long as the array lives.
    let words = unsafe { PyArray1::borrow_from_array(&view, owner.clone().into_any()) };
    Ok((words, offset, len, array.dtype.numpy_str(), array.shape))
}

/// Python header-field values accepted by the writer.
#[derive(FromPyObject)]
pub enum PyField {
    // First, so that `bytes` is not taken for a sequence of integers.
    Bytes(PyBackedBytes),
    Int(i64),
    Float(f64),
    Ints(Vec<i64>),
    Floats(Vec<f64>),
}

/// Header fields for the writer, from their Python values.
pub fn fields_of(fields: Option<HashMap<String, PyField>>) -> Vec<(String, FieldValue)> {
    fields
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                PyField::Int(i) => FieldValue::Int(i),
                PyField::Float(x) => FieldValue::Float(x),
                PyField::Ints(x) => FieldValue::Ints(x),
                PyField::Floats(x) => FieldValue::Floats(x),
                PyField::Bytes(b) => FieldValue::Bytes(b.to_vec()),
            };
            (k, v)
        })
        .collect()
}

/// Write a single-file NIfTI-1 image from native-endian, Fortran-ordered bytes.
#[pyfunction]
#[pyo3(signature = (path, data, shape, dtype, affine, gzip=None, level=None, fields=None, index=false, nifti2=None, extensions=None))]
#[allow(clippy::too_many_arguments)]
pub fn write(
    py: Python<'_>,
    path: PathBuf,
    data: PyReadonlyArray1<'_, u8>,
    shape: Vec<usize>,
    dtype: &str,
    affine: [[f64; 4]; 4],
    gzip: Option<bool>,
    level: Option<u32>,
    fields: Option<HashMap<String, PyField>>,
    index: bool,
    nifti2: Option<bool>,
    extensions: Option<Vec<(i32, Vec<u8>)>>,
) -> PyResult<()> {
    let dtype = DataType::from_numpy_str(dtype)
        .ok_or_else(|| PyValueError::new_err(format!("cannot write dtype {dtype:?} to NIfTI")))?;
    let fields = fields_of(fields);
    let options = WriteOptions {
        gzip,
        level,
        fields,
        index,
        format: nifti2.map(|two| if two { Format::Nifti2 } else { Format::Nifti1 }),
        extensions: extensions
            .unwrap_or_default()
            .into_iter()
            .map(|(code, content)| Extension { code, content })
            .collect(),
    };
    let bytes = data.as_slice()?;
    py.detach(|| tioxide::write(&path, bytes, &shape, dtype, &affine, &options))
        .map_err(to_py)
}

/// Forget cached headers and memory maps (they are revalidated by `stat` on
/// every use anyway; this releases their memory and address space).
#[pyfunction]
pub fn clear_cache() {
    tioxide::cache::clear();
    tioxide::gz::clear_caches();
}
