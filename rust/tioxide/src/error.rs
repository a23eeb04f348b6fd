//! One error type for everything the crate can refuse.
//!
//! Variants are precise so that callers (and the Python bindings) can map them
//! to distinct exception classes. Errors raised while handling a particular
//! file are wrapped in [`Error::InFile`] so the message always names the file.

use std::path::{Path, PathBuf};

/// Every way reading or writing a NIfTI/ANALYZE file can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system error (missing file, permission denied, a directory ...).
    #[error("{0}")]
    Io(#[from] std::io::Error),

    /// The file (or decompressed stream) ends before a structure it must hold.
    #[error("file is truncated: {what} needs {expected} bytes but only {got} are available")]
    TruncatedFile {
        /// Which structure was cut short.
        what: &'static str,
        /// Bytes needed.
        expected: u64,
        /// Bytes present.
        got: u64,
    },

    /// `sizeof_hdr` is neither 348 (NIfTI-1/ANALYZE) nor 540 (NIfTI-2) in either byte order.
    #[error("not a NIfTI/ANALYZE header: sizeof_hdr is {little} (little-endian) / {big} (big-endian), expected 348 or 540")]
    BadSizeofHdr {
        /// `sizeof_hdr` read as little-endian.
        little: i32,
        /// `sizeof_hdr` read as big-endian.
        big: i32,
    },

    /// The magic string is not one NIfTI defines.
    #[error("bad magic {found:?}: expected {expected}")]
    BadMagic {
        /// The magic bytes found (trailing NULs removed).
        found: String,
        /// What was expected.
        expected: &'static str,
    },

    /// The `datatype` code is not one this crate can read.
    #[error("unsupported datatype code {0} (supported: 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1792, 2304)")]
    UnsupportedDatatype(i16),

    /// `dim` is invalid (rank out of 1..=7, a non-positive extent, or an overflowing product).
    #[error("invalid dim {dim:?}: {reason}")]
    InvalidDim {
        /// The `dim` field as read.
        dim: Vec<i64>,
        /// What is wrong with it.
        reason: String,
    },

    /// Another header field holds a value the format forbids.
    #[error("invalid header field {field}: {reason}")]
    InvalidHeader {
        /// The NIfTI name of the field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// The gzip stream is damaged (bad header, bad deflate data, CRC or ISIZE mismatch).
    #[error("corrupt gzip stream at compressed offset {offset}: {reason}")]
    CorruptGzip {
        /// Byte offset in the compressed file where the problem was found.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// A requested region does not fit the image.
    #[error("invalid region: {0}")]
    InvalidRegion(String),

    /// An array handed to the writer does not match what the header needs, or
    /// a probability map handed to a draw is not one.
    #[error("invalid data: {0}")]
    InvalidData(String),

    /// An error tied to a particular file.
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        source: Box<Error>,
    },
}

impl Error {
    /// Attach the file name to this error (once).
    pub fn in_file(self, path: &Path) -> Error {
        match self {
            Error::InFile { .. } => self,
            other => Error::InFile {
                path: path.to_path_buf(),
                source: Box::new(other),
            },
        }
    }

    /// The error without its file context.
    pub fn kind(&self) -> &Error {
        match self {
            Error::InFile { source, .. } => source.kind(),
            other => other,
        }
    }

    /// The file this error is about, if known.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::InFile { path, .. } => Some(path),
            _ => None,
        }
    }

    pub(crate) fn header(field: &'static str, reason: impl Into<String>) -> Error {
        Error::InvalidHeader {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn gzip(offset: u64, reason: impl Into<String>) -> Error {
        Error::CorruptGzip {
            offset,
            reason: reason.into(),
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;
