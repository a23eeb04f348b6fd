//! Rust errors -> Python exceptions.

use pyo3::create_exception;
use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyOSError, PyPermissionError, PyValueError,
};
use pyo3::prelude::*;
use tioxide::Error;

create_exception!(
    _core,
    NiftiError,
    PyValueError,
    "Base class of every error about NIfTI/ANALYZE content."
);
create_exception!(
    _core,
    TruncatedFileError,
    NiftiError,
    "The file ends before the header or voxels it promises."
);
create_exception!(
    _core,
    CorruptGzipError,
    NiftiError,
    "The gzip stream is damaged (bad data, CRC32 or ISIZE)."
);
create_exception!(
    _core,
    UnsupportedDatatypeError,
    NiftiError,
    "The header's datatype code cannot be read."
);
create_exception!(
    _core,
    InvalidHeaderError,
    NiftiError,
    "A header field holds a value the format forbids."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("NiftiError", py.get_type::<NiftiError>())?;
    m.add("TruncatedFileError", py.get_type::<TruncatedFileError>())?;
    m.add("CorruptGzipError", py.get_type::<CorruptGzipError>())?;
    m.add(
        "UnsupportedDatatypeError",
        py.get_type::<UnsupportedDatatypeError>(),
    )?;
    m.add("InvalidHeaderError", py.get_type::<InvalidHeaderError>())?;
    Ok(())
}

/// Convert a core error, keeping the file name in the message (and in
/// `OSError.filename` for operating-system errors).
pub fn to_py(err: Error) -> PyErr {
    let message = err.to_string();
    let filename = err.path().map(|p| p.to_string_lossy().into_owned());
    match err.kind() {
        Error::Io(io) => {
            let errno = io.raw_os_error().unwrap_or(match io.kind() {
                std::io::ErrorKind::NotFound => 2,
                std::io::ErrorKind::PermissionDenied => 13,
                std::io::ErrorKind::IsADirectory => 21,
                _ => 0,
            });
            // Rust appends " (os error N)"; Python shows errno itself.
            let detail = io.to_string();
            let detail = match detail.rfind(" (os error") {
                Some(cut) => detail[..cut].to_string(),
                None => detail,
            };
            let args = (errno, detail, filename.unwrap_or_default());
            match io.kind() {
                std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
                std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
                std::io::ErrorKind::IsADirectory => PyIsADirectoryError::new_err(args),
                _ => PyOSError::new_err(args),
            }
        }
        Error::TruncatedFile { .. } => TruncatedFileError::new_err(message),
        Error::CorruptGzip { .. } => CorruptGzipError::new_err(message),
        Error::UnsupportedDatatype(_) => UnsupportedDatatypeError::new_err(message),
        Error::BadSizeofHdr { .. }
        | Error::BadMagic { .. }
        | Error::InvalidDim { .. }
        | Error::InvalidHeader { .. } => InvalidHeaderError::new_err(message),
        _ => NiftiError::new_err(message),
    }
}
