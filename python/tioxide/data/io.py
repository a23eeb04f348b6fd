"""Formats: which files the Rust core reads, and the default reader that dispatches by suffix.

The names TorchIO 2 has in ``torchio.data.io`` are here too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from torch import Tensor

from .sitk_backend import read_sitk
from .sources import resolve_source
from .zarr_backend import is_nifti_zarr, is_remote_nifti_zarr

__all__ = [
    "check_reader_kwargs",
    "default_reader",
    "is_nifti",
    "is_nifti_zarr",
    "is_remote_nifti_zarr",
    "read_nifti_zarr",
    "read_sitk",
    "resolve_source",
    "unsupported_format",
]

#: File name endings read by the Rust NIfTI core (compared in lower case).
NIFTI_SUFFIXES = (".nii", ".nii.gz", ".hdr", ".img", ".hdr.gz", ".img.gz")

#: The ``reader_kwargs`` of a NIfTI file: those of ``nibabel.load``, to which
#: TorchIO forwards them. They choose how nibabel handles the file, not which
#: values it reads.
NIBABEL_READER_KWARGS = frozenset({"mmap", "keep_file_open"})


def is_nifti(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a NIfTI-1/-2 or ANALYZE file (by its suffix, any case)."""
    return Path(path).name.lower().endswith(NIFTI_SUFFIXES)


def unsupported_format(path: Path) -> ValueError:
    """The error for a path that no reader can read."""
    return ValueError(
        f"{path}: unsupported image format; tioxide reads NIfTI-1, NIfTI-2 and ANALYZE "
        f"files ({', '.join(NIFTI_SUFFIXES)}), NIfTI-Zarr, and what SimpleITK reads"
    )


def check_reader_kwargs(name: object, kwargs: dict[str, Any]) -> None:
    """Refuse NIfTI ``reader_kwargs`` that ``nibabel.load`` would not take.

    Args:
        name: The file or stream, named in the error.
        kwargs: The keyword arguments.

    Raises:
        TypeError: A keyword other than those nibabel uses for file handling.
    """
    unknown = sorted(set(kwargs) - NIBABEL_READER_KWARGS)
    if unknown:
        raise TypeError(
            f"{name}: unexpected reader keyword argument(s) {', '.join(unknown)}; the NIfTI "
            f"reader accepts only {', '.join(sorted(NIBABEL_READER_KWARGS))} "
            "(the options of nibabel.load)"
        )


def default_reader(path: Path, **kwargs: Any) -> tuple[Tensor, npt.NDArray[np.float64]]:
    """Read a whole image: its ``(C, I, J, K)`` tensor and its 4 x 4 RAS+ affine.

    NIfTI and ANALYZE files go to the Rust core (to nibabel when ``kwargs``
    hold its options), ``.nii.zarr`` stores to
    ``nifti-zarr``, directories (DICOM series) and anything else to SimpleITK.

    Args:
        path: The file.
        **kwargs: For NIfTI, ``mmap`` and ``keep_file_open`` (given, nibabel
            loads the file with them, as in TorchIO; see
            :func:`~tioxide.data.nifti_backend.open_nifti`); for NIfTI-Zarr, arguments of
            ``niizarr.zarr2nii``; for SimpleITK, ``outputPixelType`` and ``imageIO``;
            for a DICOM directory, ``seriesID``.

    Raises:
        FileNotFoundError: The file does not exist.
        IsADirectoryError: A directory without a DICOM series.
        ValueError: No reader reads the format, or the image is not 3D/4D.
        TypeError: An unknown keyword argument.
        ImportError: The format needs an optional dependency that is missing.
    """
    from .nifti_backend import open_nifti

    if is_nifti_zarr(path):
        return read_nifti_zarr(path, **kwargs)
    if Path(path).is_dir():
        from .dicom_backend import DicomSeriesBackend

        series = DicomSeriesBackend(path, reader_kwargs=kwargs)
        return series.to_tensor(), series.affine.numpy()
    if is_nifti(path):
        backend = open_nifti(path, None, kwargs)
        return backend.to_tensor(), backend.affine.numpy()
    return read_sitk(path, **kwargs)


def read_nifti_zarr(path: Path, **kwargs: Any) -> tuple[Tensor, npt.NDArray[np.float64]]:
    """Read a whole NIfTI-Zarr store (needs ``pip install tioxide[zarr]``).

    Args:
        path: A ``.nii.zarr`` directory.
        **kwargs: Passed to ``niizarr.zarr2nii``.
    """
    from .zarr_backend import ZarrBackend

    backend = ZarrBackend(path, **kwargs)
    return backend.to_tensor(), backend.affine.numpy()
