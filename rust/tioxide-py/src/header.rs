//! The header object handed to Python.

use std::path::PathBuf;

use numpy::{PyArray2, ToPyArray};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};
use tioxide::{affine, FieldValue, Format, NiftiFile, NiftiHeader};

use crate::errors::to_py;

/// A parsed NIfTI/ANALYZE header (see `tioxide.nifti.NiftiHeader`).
#[pyclass(name = "NiftiHeader", module = "tioxide._core", frozen)]
pub struct PyNiftiHeader {
    header: NiftiHeader,
    affine: affine::Affine,
    header_path: PathBuf,
    data_path: PathBuf,
}

fn value_to_py<'py>(py: Python<'py>, v: &FieldValue) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        FieldValue::Int(i) => i.into_pyobject(py)?.into_any(),
        FieldValue::Float(x) => x.into_pyobject(py)?.into_any(),
        FieldValue::Ints(xs) => PyTuple::new(py, xs)?.into_any(),
        FieldValue::Floats(xs) => PyTuple::new(py, xs)?.into_any(),
        FieldValue::Bytes(b) => PyBytes::new(py, b).into_any(),
    })
}

fn affine_to_numpy<'py>(py: Python<'py>, a: &affine::Affine) -> Bound<'py, PyArray2<f64>> {
    numpy::ndarray::Array2::from_shape_fn((4, 4), |(i, j)| a[i][j]).to_pyarray(py)
}

#[pymethods]
impl PyNiftiHeader {
    /// Data shape in file order.
    #[getter]
    fn shape(&self) -> Vec<usize> {
        self.header.shape().to_vec()
    }
    /// NIfTI datatype code.
    #[getter]
    fn datatype(&self) -> i16 {
        self.header.datatype().code()
    }
    /// numpy dtype string of the stored values, with byte order (e.g. `<i2`, `RGB`).
    #[getter]
    fn dtype_str(&self) -> String {
        let d = self.header.datatype();
        if d.is_rgb() || d.size() == 1 {
            return format!("|{}", d.numpy_str());
        }
        format!("{}{}", self.header.endian().numpy_char(), d.numpy_str())
    }
    /// `'<'` or `'>'`.
    #[getter]
    fn byte_order(&self) -> String {
        self.header.endian().numpy_char().to_string()
    }
    /// `"nifti1"`, `"nifti2"` or `"analyze"`.
    #[getter]
    fn format(&self) -> &'static str {
        match self.header.format() {
            Format::Nifti1 => "nifti1",
            Format::Nifti2 => "nifti2",
            Format::Analyze => "analyze",
        }
    }
    /// True for `.nii` (`n+1`/`n+2`) files.
    #[getter]
    fn single_file(&self) -> bool {
        self.header.is_single_file()
    }
    /// Byte offset of the voxels in the data file.
    #[getter]
    fn vox_offset(&self) -> u64 {
        self.header.vox_offset()
    }
    /// The best affine (4x4 float64), as nibabel's `get_best_affine()`.
    #[getter]
    fn affine<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<f64>> {
        affine_to_numpy(py, &self.affine)
    }
    /// The qform affine, or None when qform_code is 0.
    fn qform<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f64>>>> {
        if self.header.format() == Format::Analyze || self.header.int("qform_code") == 0 {
            return Ok(None);
        }
        let a = affine::qform(&self.header).map_err(to_py)?;
        Ok(Some(affine_to_numpy(py, &a)))
    }
    /// The sform affine, or None when sform_code is 0.
    fn sform<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray2<f64>>> {
        if self.header.format() == Format::Analyze || self.header.int("sform_code") == 0 {
            return None;
        }
        let a = affine::sform(&self.header);
        Some(affine_to_numpy(py, &a))
    }
    /// nibabel's `get_zooms()`.
    #[getter]
    fn zooms(&self) -> Vec<f64> {
        self.header.zooms()
    }
    /// Voxel spacing from the affine (column norms), as TorchIO reports it.
    #[getter]
    fn spacing(&self) -> [f64; 3] {
        affine::spacing(&self.affine)
    }
    /// Orientation codes such as `"RAS"`.
    #[getter]
    fn orientation(&self) -> String {
        affine::axcodes(&self.affine).iter().collect()
    }
    /// `(slope, intercept)` applied on read, or None.
    #[getter]
    fn scaling(&self) -> PyResult<Option<(f64, f64)>> {
        self.header.scaling().map_err(to_py)
    }
    /// Header extensions as `(code, bytes)`.
    #[getter]
    fn extensions<'py>(&self, py: Python<'py>) -> Vec<(i32, Bound<'py, PyBytes>)> {
        self.header
            .extensions()
            .iter()
            .map(|e| (e.code, PyBytes::new(py, &e.content)))
            .collect()
    }
    /// The file holding the header.
    #[getter]
    fn header_path(&self) -> PathBuf {
        self.header_path.clone()
    }
    /// The file holding the voxels.
    #[getter]
    fn data_path(&self) -> PathBuf {
        self.data_path.clone()
    }
    /// Field names in header order.
    fn keys(&self) -> Vec<&'static str> {
        self.header.fields().iter().map(|(n, _)| *n).collect()
    }
    /// Every field by name (arrays as tuples, strings as bytes).
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, v) in self.header.fields() {
            d.set_item(name, value_to_py(py, v)?)?;
        }
        Ok(d)
    }
    /// One field by name.
    fn field<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.header.get(name) {
            Some(v) => value_to_py(py, v),
            None => Err(PyKeyError::new_err(format!(
                "{} header has no field {name:?}",
                self.format()
            ))),
        }
    }
}

impl PyNiftiHeader {
    /// Wrap a parsed header; `name` stands for both paths of a stream.
    pub fn from_header(header: NiftiHeader, name: PathBuf) -> PyResult<PyNiftiHeader> {
        let affine = header.affine().map_err(|e| to_py(e.in_file(&name)))?;
        Ok(PyNiftiHeader {
            affine,
            header_path: name.clone(),
            data_path: name,
            header,
        })
    }
}

/// The data shape of the image at `path` (the header is cached by file
/// identity): what a region read needs to resolve its index, without
/// building the header object. Fails where [`read_header`] fails.
#[pyfunction]
pub fn read_shape(py: Python<'_>, path: PathBuf) -> PyResult<Vec<usize>> {
    let file = py.detach(|| NiftiFile::open(&path)).map_err(to_py)?;
    file.header()
        .affine()
        .map_err(|e| to_py(e.in_file(&path)))?;
    Ok(file.header().shape().to_vec())
}

/// Read the header of a NIfTI/ANALYZE image (`.nii`, `.nii.gz`, `.hdr`/`.img`, `.img.gz`).
#[pyfunction]
pub fn read_header(py: Python<'_>, path: PathBuf) -> PyResult<PyNiftiHeader> {
    let file = py.detach(|| NiftiFile::open(&path)).map_err(to_py)?;
    let header = file.header().clone();
    let affine = header.affine().map_err(|e| to_py(e.in_file(&path)))?;
    Ok(PyNiftiHeader {
        affine,
        header_path: file.paths().header.clone(),
        data_path: file.paths().data.clone(),
        header,
    })
}
