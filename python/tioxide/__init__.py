"""tioxide: a faster, drop-in replacement for TorchIO's image data layer.

The NIfTI/ANALYZE reading and writing happens in a Rust core; the low-level,
nibabel-like interface to it is :mod:`tioxide.nifti`. The TorchIO-compatible
classes (``ScalarImage``, ``LabelMap``, ``Image``, ``AffineMatrix``, ``Subject``,
``Points``, ``BoundingBoxes`` ...) live in
:mod:`tioxide.data` and are available here too; they are imported on first use,
so ``import tioxide`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import nifti
from ._core import __version__
from .exceptions import (
    CorruptGzipError,
    InvalidHeaderError,
    NiftiError,
    TruncatedFileError,
    UnsupportedDatatypeError,
)

if TYPE_CHECKING:
    from . import data
    from .data import (
        AffineMatrix,
        BoundingBoxes,
        BoundingBoxFormat,
        Image,
        LabelMap,
        Points,
        Representation,
        ScalarImage,
        Study,
        Subject,
    )

# Names imported from tioxide.data on first access (PEP 562).
_FROM_DATA = frozenset(
    {
        "AffineMatrix",
        "BoundingBoxFormat",
        "BoundingBoxes",
        "Image",
        "LabelMap",
        "Points",
        "Representation",
        "ScalarImage",
        "Study",
        "Subject",
    }
)

__all__ = [
    "AffineMatrix",
    "BoundingBoxFormat",
    "BoundingBoxes",
    "CorruptGzipError",
    "Image",
    "InvalidHeaderError",
    "LabelMap",
    "NiftiError",
    "Points",
    "Representation",
    "ScalarImage",
    "Study",
    "Subject",
    "TruncatedFileError",
    "UnsupportedDatatypeError",
    "__version__",
    "data",
    "nifti",
]


def __getattr__(name: str) -> Any:
    if name == "data":
        return importlib.import_module(".data", __name__)
    if name in _FROM_DATA:
        value = getattr(importlib.import_module(".data", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
