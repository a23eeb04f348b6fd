"""``ZarrBackend``: NIfTI-Zarr (``.nii.zarr``) images, local, remote or in an open store.

The ``nifti-zarr`` package (``pip install tioxide[zarr]``) turns the store into
a nibabel image over a dask array, which
:class:`~.nibabel_backend.NibabelBackend` reads chunk by chunk: a region
reads only the chunks it overlaps.

What nifti-zarr and zarr raise for a store that is missing or is not a
NIfTI-Zarr (``KeyError``, zarr's own errors, ...) is turned into
``FileNotFoundError`` and ``ValueError`` messages that name the store.
"""

from __future__ import annotations

import os
from pathlib import Path
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


def import_niizarr(purpose: str = "Reading NIfTI-Zarr images") -> Any:
    """The ``niizarr`` module, or an ImportError naming the ``zarr`` extra."""
    return require("niizarr", "zarr", package="nifti-zarr", purpose=purpose)


class StoreNotFoundError(FileNotFoundError, ValueError):
    """No zarr group or array where a NIfTI-Zarr store was expected.

    Both a ``FileNotFoundError`` and a ``ValueError``, as zarr's
    ``GroupNotFoundError`` (what TorchIO lets through) is.
    """


def _describe(source: Any) -> str:
    """How error messages name a store: its path or URI, else the store object."""
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return repr(source)


def _missing(error: BaseException) -> bool:
    """Whether zarr says that there is no node (group or array) at all."""
    names = {kind.__name__ for kind in type(error).__mro__}
    return isinstance(error, FileNotFoundError) or bool(
        names & {"NodeNotFoundError", "GroupNotFoundError", "ArrayNotFoundError"}
    )


def open_nifti_zarr(source: Any, **kwargs: Any) -> Any:
    """Open a NIfTI-Zarr store as a nibabel image whose ``dataobj`` is a lazy dask array.

    Args:
        source: A local ``.nii.zarr`` directory, a remote URI (any fsspec
            protocol), or an open ``zarr.abc.store.Store``.
        **kwargs: Passed to ``niizarr.zarr2nii``: ``level`` (pyramid level,
            0 is the finest), ``mode``, and options of the fsspec store.

    Raises:
        ImportError: ``nifti-zarr`` is not installed (``pip install tioxide[zarr]``).
        StoreNotFoundError: No zarr group or array at ``source`` (a
            ``FileNotFoundError`` and a ``ValueError``, as zarr's own error).
        ValueError: ``source`` holds something other than a NIfTI-Zarr image.
        IndexError: No such pyramid level.
    """
    niizarr = import_niizarr()
    name = _describe(source)
    if isinstance(source, str | os.PathLike):
        source = os.fspath(source)
        if _REMOTE_MARK not in source:
            path = Path(source)
            if not path.exists():
                raise StoreNotFoundError(f"{path}: no such NIfTI-Zarr store")
            if not path.is_dir():
                raise ValueError(
                    f"{path}: not a NIfTI-Zarr store (a file; a NIfTI-Zarr store is a directory)"
                )
    try:
        return niizarr.zarr2nii(source, **kwargs)
    except ImportError:
        raise
    except IndexError as e:
        raise IndexError(f"{name}: {e}") from e
    except TypeError as e:
        raise TypeError(f"{name}: {e} (reader_kwargs are passed to niizarr.zarr2nii)") from e
    except Exception as e:
        if _missing(e):
            what = "no such NIfTI-Zarr store" if _REMOTE_MARK in name else "not a NIfTI-Zarr store"
            raise StoreNotFoundError(f"{name}: {what} ({type(e).__name__}: {e})") from e
        raise ValueError(f"{name}: not a NIfTI-Zarr store ({type(e).__name__}: {e})") from e


class ZarrBackend:
    """A NIfTI-Zarr image, read chunk by chunk.

    Args:
        source: A ``.nii.zarr`` path or URI, or an open zarr store.
        affine: 4 x 4 affine that replaces the stored one.
        **kwargs: Passed to ``niizarr.zarr2nii`` (see :func:`open_nifti_zarr`).

    Raises:
        ImportError: ``nifti-zarr`` is not installed (``pip install tioxide[zarr]``).
        FileNotFoundError: Nothing is stored at ``source``.
        ValueError: ``source`` is not a 3D or 4D NIfTI-Zarr image.
    """

    __slots__ = ("_name", "_nibabel")

    def __init__(
        self, source: Any, affine: Tensor | npt.ArrayLike | None = None, **kwargs: Any
    ) -> None:
        self._name = _describe(source)
        nii = open_nifti_zarr(source, **kwargs)
        try:
            self._nibabel = NibabelBackend(nii, affine=affine)
        except ValueError as e:
            raise ValueError(f"{self._name}: {e}") from e

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

    def __repr__(self) -> str:
        return f"ZarrBackend({self._name}, shape={self.shape}, dtype={self.dtype})"
