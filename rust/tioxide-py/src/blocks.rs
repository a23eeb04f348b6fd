//! Block-wise arrays on disk: a NIfTI file written as blocks arrive, and
//! nameless scratch arrays (for accumulating patch outputs larger than
//! memory).

use std::path::PathBuf;
use std::sync::Mutex;

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tioxide::{BlockFile, DataType, PendingNifti, WriteOptions};

use crate::errors::to_py;
use crate::io::{fields_of, PyField};

fn read_block<'py>(
    py: Python<'py>,
    blocks: &BlockFile,
    start: Vec<usize>,
    size: Vec<usize>,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let bytes = py.detach(|| blocks.read(&start, &size)).map_err(to_py)?;
    Ok(bytes.into_pyarray(py))
}

fn write_block(
    py: Python<'_>,
    blocks: &BlockFile,
    start: Vec<usize>,
    size: Vec<usize>,
    data: PyReadonlyArray1<'_, u8>,
) -> PyResult<()> {
    let bytes = data.as_slice()?;
    py.detach(|| blocks.write(&start, &size, bytes))
        .map_err(to_py)
}

/// A nameless, zero-filled array file of `shape` (Fortran order) with
/// `itemsize`-byte elements, created in `directory`.
#[pyclass(module = "tioxide._core", frozen)]
pub struct ScratchArray {
    blocks: BlockFile,
}

#[pymethods]
impl ScratchArray {
    #[new]
    fn new(
        py: Python<'_>,
        directory: PathBuf,
        shape: Vec<usize>,
        itemsize: usize,
    ) -> PyResult<Self> {
        let blocks = py
            .detach(|| BlockFile::scratch(&directory, &shape, itemsize))
            .map_err(to_py)?;
        Ok(ScratchArray { blocks })
    }

    /// The bytes of the block at `start` of `size` (Fortran order).
    fn read_block<'py>(
        &self,
        py: Python<'py>,
        start: Vec<usize>,
        size: Vec<usize>,
    ) -> PyResult<Bound<'py, PyArray1<u8>>> {
        read_block(py, &self.blocks, start, size)
    }

    /// Store the block at `start` of `size` from `data` (Fortran order).
    fn write_block(
        &self,
        py: Python<'_>,
        start: Vec<usize>,
        size: Vec<usize>,
        data: PyReadonlyArray1<'_, u8>,
    ) -> PyResult<()> {
        write_block(py, &self.blocks, start, size, data)
    }
}

/// A NIfTI file written block by block and moved into place by `finish()`;
/// see `tioxide::PendingNifti`.
#[pyclass(module = "tioxide._core", name = "PendingNifti", frozen)]
pub struct PyPendingNifti {
    inner: Mutex<PendingNifti>,
}

impl PyPendingNifti {
    fn with<T>(&self, f: impl FnOnce(&mut PendingNifti) -> PyResult<T>) -> PyResult<T> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut inner)
    }
}

#[pymethods]
impl PyPendingNifti {
    #[new]
    #[pyo3(signature = (path, shape, dtype, affine, gzip=None, level=None, fields=None, index=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        shape: Vec<usize>,
        dtype: &str,
        affine: [[f64; 4]; 4],
        gzip: Option<bool>,
        level: Option<u32>,
        fields: Option<std::collections::HashMap<String, PyField>>,
        index: bool,
    ) -> PyResult<Self> {
        let dtype = DataType::from_numpy_str(dtype).ok_or_else(|| {
            PyValueError::new_err(format!("cannot write dtype {dtype:?} to NIfTI"))
        })?;
        let options = WriteOptions {
            gzip,
            level,
            fields: fields_of(fields),
            index,
            ..WriteOptions::default()
        };
        let inner = py
            .detach(|| PendingNifti::create(&path, &shape, dtype, &affine, &options))
            .map_err(to_py)?;
        Ok(PyPendingNifti {
            inner: Mutex::new(inner),
        })
    }

    /// The bytes of the block at `start` of `size` (Fortran order).
    fn read_block<'py>(
        &self,
        py: Python<'py>,
        start: Vec<usize>,
        size: Vec<usize>,
    ) -> PyResult<Bound<'py, PyArray1<u8>>> {
        self.with(|p| read_block(py, p.blocks().map_err(to_py)?, start, size))
    }

    /// Store the block at `start` of `size` from `data` (Fortran order).
    fn write_block(
        &self,
        py: Python<'_>,
        start: Vec<usize>,
        size: Vec<usize>,
        data: PyReadonlyArray1<'_, u8>,
    ) -> PyResult<()> {
        self.with(|p| write_block(py, p.blocks().map_err(to_py)?, start, size, data))
    }

    /// Sync the file and move it into place (gzipping it for a `.gz` name).
    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        self.with(|p| py.detach(|| p.finish()).map_err(to_py))
    }
}
