"""``ZarrBackend``: NIfTI-Zarr (``.nii.zarr``) images, local, remote or in an open store.

The ``nifti-zarr`` package turns the store into a nibabel image over a dask
array, which :class:`~.nibabel_backend.NibabelBackend` reads chunk by chunk.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt
from torch import Tensor

from .extras import require
from .nibabel_backend import NibabelBackend

_REMOTE_MARK = "://"


def is_nifti_zarr(path: str | os.PathLike[str]) -> bool:
    """Whether a path names a NIfTI-Zarr store (ends in ``.nii.zarr``)."""
    return str(path).rstrip("/").endswith(".nii.zarr")


def is_remote_nifti_zarr(uri: str) -> bool:
    """Whether a string is a remote NIfTI-Zarr URI (query and fragment ignored)."""
    clean = uri.split("?", maxsplit=1)[0].split("#", maxsplit=1)[0].rstrip("/").lower()
    return _REMOTE_MARK in clean and clean.endswith(".nii.zarr")


def import_niizarr() -> Any:
    """The ``niizarr`` module, or an ImportError naming the ``zarr`` extra."""
    return require("niizarr", "zarr", package="nifti-zarr", purpose="Reading NIfTI-Zarr images")


class ZarrBackend:
    """A NIfTI-Zarr image, read chunk by chunk.

    Args:
        source: A ``.nii.zarr`` path or URI, or an open zarr store.
        affine: 4 x 4 affine that replaces the stored one.
        **kwargs: Passed to ``niizarr.zarr2nii``.

    Raises:
        ImportError: ``nifti-zarr`` is not installed (``pip install tioxide[zarr]``).
    """

    __slots__ = ("_nibabel",)

    def __init__(
        self, source: Any, affine: Tensor | npt.ArrayLike | None = None, **kwargs: Any
    ) -> None:
        niizarr = import_niizarr()
        store = source if not isinstance(source, str | os.PathLike) else os.fspath(source)
        self._nibabel = NibabelBackend(niizarr.zarr2nii(store, **kwargs), affine=affine)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, I, J, K)``."""
        return self._nibabel.shape

    @property
    def affine(self) -> Tensor:
        """The stored affine (or the override)."""
        return self._nibabel.affine

    @property
    def dtype(self) -> np.dtype[Any]:
        """The stored dtype."""
        return self._nibabel.dtype

    def __getitem__(self, item: object) -> Tensor:
        """Only the chunks of the selected region are read."""
        return self._nibabel[item]

    def to_tensor(self) -> Tensor:
        """All voxels as a 4D tensor."""
        return self._nibabel.to_tensor()
