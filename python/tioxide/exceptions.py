"""Public exceptions.

Every error about file *content* derives from :class:`NiftiError`, itself a
``ValueError``. Operating-system problems are the built-in ``OSError``
subclasses (``FileNotFoundError``, ``PermissionError``, ``IsADirectoryError``)
with ``filename`` set. Every message names the file.
"""

from __future__ import annotations

from ._core import (
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
]
