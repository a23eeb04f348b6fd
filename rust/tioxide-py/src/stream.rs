//! Images in Python binary file objects (open files, `io.BytesIO`, fsspec
//! files over HTTP ...): the core reads them through `seek`/`read` calls on
//! exactly the byte ranges it needs.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::prelude::*;
use tioxide::gz::ReadAt;
use tioxide::{Error, StreamImage};

use crate::errors::to_py;
use crate::header::PyNiftiHeader;
use crate::io::{region_of, to_result, ReadResult};

/// A Python file object as a byte source for the core.
struct PyReadAt {
    file: Py<PyAny>,
    size: u64,
    // One seek+read at a time: the file object has a single position. Taken
    // before the GIL, never while holding it (its `read` may release the GIL).
    lock: Mutex<()>,
}

fn io_error(e: PyErr) -> Error {
    Error::Io(std::io::Error::other(e.to_string()))
}

impl PyReadAt {
    fn new(py: Python<'_>, file: Py<PyAny>) -> PyResult<PyReadAt> {
        let size: u64 = file.call_method1(py, "seek", (0, 2))?.extract(py)?;
        Ok(PyReadAt {
            file,
            size,
            lock: Mutex::new(()),
        })
    }
}

impl ReadAt for PyReadAt {
    fn size(&self) -> tioxide::Result<u64> {
        Ok(self.size)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> tioxide::Result<usize> {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Python::attach(|py| {
            self.file
                .call_method1(py, "seek", (offset,))
                .map_err(io_error)?;
            let mut filled = 0;
            while filled < buf.len() {
                let chunk = self
                    .file
                    .call_method1(py, "read", (buf.len() - filled,))
                    .map_err(io_error)?;
                let chunk = chunk.bind(py);
                let bytes = chunk
                    .cast::<pyo3::types::PyBytes>()
                    .map_err(|e| io_error(PyErr::from(e)))?
                    .as_bytes();
                if bytes.is_empty() {
                    break;
                }
                let n = bytes.len().min(buf.len() - filled);
                buf[filled..filled + n].copy_from_slice(&bytes[..n]);
                filled += n;
            }
            Ok(filled)
        })
    }
}

/// Read the header of the single-file image in a binary file object.
/// `name` labels errors; `key` identifies the contents for the caches.
#[pyfunction]
#[pyo3(signature = (file, name, key=None, index=None))]
pub fn read_header_stream(
    py: Python<'_>,
    file: Py<PyAny>,
    name: PathBuf,
    key: Option<String>,
    index: Option<Vec<u8>>,
) -> PyResult<PyNiftiHeader> {
    let src = PyReadAt::new(py, file)?;
    let header = py
        .detach(|| StreamImage::open(&src, key, index).map(|img| img.header().clone()))
        .map_err(|e| to_py(e.in_file(&name)));
    crate::gz::flush_warnings(py)?;
    PyNiftiHeader::from_header(header?, name)
}

/// Read voxels (scaled as nibabel does) of the image in a binary file object.
#[pyfunction]
#[pyo3(signature = (file, name, region=None, key=None, index=None))]
pub fn read_stream<'py>(
    py: Python<'py>,
    file: Py<PyAny>,
    name: PathBuf,
    region: Option<Vec<(usize, isize, usize)>>,
    key: Option<String>,
    index: Option<Vec<u8>>,
) -> PyResult<ReadResult<'py>> {
    let src = PyReadAt::new(py, file)?;
    let region = region_of(region);
    let array =
        py.detach(|| StreamImage::open(&src, key, index).and_then(|img| img.read(region.as_ref())));
    crate::gz::flush_warnings(py)?;
    to_result(py, array.map_err(|e| to_py(e.in_file(&name)))?)
}
