"""Image sources and formats: which paths tioxide reads, and the default reader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from torch import Tensor

#: File name endings read by the Rust NIfTI core (compared in lower case).
NIFTI_SUFFIXES = (".nii", ".nii.gz", ".hdr", ".img", ".hdr.gz", ".img.gz")

#: ``reader_kwargs`` that TorchIO forwards to ``nibabel.load`` and that make no
#: difference to what tioxide reads; they are accepted and ignored.
IGNORED_READER_KWARGS = frozenset({"mmap", "keep_file_open"})


def is_nifti(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a NIfTI-1/-2 or ANALYZE file (by its suffix, any case)."""
    return Path(path).name.lower().endswith(NIFTI_SUFFIXES)


def resolve_source(source: str | os.PathLike[str]) -> Path:
    """The local path an image will be read from.

    Args:
        source: A path, as a string or path-like object.

    Raises:
        NotImplementedError: ``source`` is a URL (``scheme://...``); remote
            sources are not supported yet.
    """
    text = os.fspath(source)
    if isinstance(source, str) and "://" in text:
        raise NotImplementedError(f"{text}: remote (URL) image sources are not supported yet")
    return source if isinstance(source, Path) else Path(text)


def unsupported_format(path: Path) -> ValueError:
    """The error for a path whose format tioxide cannot read."""
    return ValueError(
        f"{path}: unsupported image format; tioxide reads NIfTI-1, NIfTI-2 and ANALYZE "
        f"files ({', '.join(NIFTI_SUFFIXES)})"
    )


def check_reader_kwargs(path: Path, kwargs: dict[str, Any]) -> None:
    """Refuse ``reader_kwargs`` that would change what is read.

    Raises:
        TypeError: A keyword other than those nibabel uses for file handling.
    """
    unknown = sorted(set(kwargs) - IGNORED_READER_KWARGS)
    if unknown:
        raise TypeError(
            f"{path}: unexpected reader keyword argument(s) {', '.join(unknown)}; the NIfTI "
            f"reader accepts only {', '.join(sorted(IGNORED_READER_KWARGS))} (ignored)"
        )


def default_reader(path: Path, **kwargs: Any) -> tuple[Tensor, npt.NDArray[np.float64]]:
    """Read a whole image: its ``(C, I, J, K)`` tensor and its 4 x 4 affine.

    Args:
        path: A NIfTI-1, NIfTI-2 or ANALYZE file.
        **kwargs: ``mmap`` and ``keep_file_open`` are accepted for
            compatibility with TorchIO (which passes them to nibabel) and ignored.

    Raises:
        ValueError: The format is not supported, or the file is not 3D/4D.
        TypeError: An unknown keyword argument.
    """
    from .backends import NiftiBackend

    if not is_nifti(path):
        raise unsupported_format(path)
    backend = NiftiBackend(path, reader_kwargs=kwargs)
    return backend.to_tensor(), backend.affine.numpy()
