"""tioxide: a faster, drop-in replacement for TorchIO's image data layer.

The NIfTI/ANALYZE reading and writing happens in a Rust core; the low-level,
nibabel-like interface to it is :mod:`tioxide.nifti`.
"""

from __future__ import annotations

from . import nifti
from ._core import __version__
from .exceptions import (
    CorruptGzipError,
    InvalidHeaderError,
    NiftiError,
    TruncatedFileError,
    UnsupportedDatatypeError,
)

__all__ = [
    "CorruptGzipError",
    "InvalidHeaderError",
    "NiftiError",
    "TruncatedFileError",
    "UnsupportedDatatypeError",
    "__version__",
    "nifti",
]
