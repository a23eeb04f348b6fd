"""Where an image's voxels live, and which backend reads which source.

This module mirrors ``torchio.data.backends``: the backend protocol, the
backend classes, and the registry that picks one for a source. The built-in
backends, in the order they are consulted after any registered by the user:

1. ``custom-reader``: the image's reader, if it is a :class:`LazyReader`.
2. ``remote-nifti-zarr``, ``nifti-zarr``: :class:`ZarrBackend` for a remote URI or a
   local ``.nii.zarr`` directory; ``zarr-store``: :class:`NibabelBackend` over
   ``niizarr.zarr2nii`` for an open zarr store (as in TorchIO).
3. ``nifti``: :class:`NiftiBackend` (the Rust core) for ``.nii``, ``.nii.gz``,
   ``.hdr``/``.img`` (also gzipped).
4. ``dicom-series``: :class:`DicomSeriesBackend` for a directory holding a
   DICOM series (read by the default reader).
5. ``simpleitk``: :class:`SimpleITKBackend` for any other file the default
   reader is given that SimpleITK recognises (NRRD, MHA/MHD, ...).

A backend reports the ``(C, I, J, K)`` shape, the affine and the dtype of an
image, returns any region of it as a 4D tensor, and materialises all of it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .dicom_backend import DicomSeriesBackend, dicom_series
from .indexing import normalize_index
from .io import default_reader, is_nifti
from .nibabel_backend import NibabelBackend
from .nifti_backend import NiftiBackend, open_nifti
from .registry import (
    BackendFactory,
    BackendMatcher,
    BackendRequest,
    ImageDataBackend,
    LazyReader,
    register_backend,
    registered_backends,
    resolve_backend,
    unregister_backend,
)
from .sitk_backend import SimpleITKBackend, sitk_can_read
from .zarr_backend import ZarrBackend, is_nifti_zarr, open_nifti_zarr

__all__ = [
    "BackendFactory",
    "BackendMatcher",
    "BackendRequest",
    "DicomSeriesBackend",
    "ImageDataBackend",
    "LazyReader",
    "NibabelBackend",
    "NiftiBackend",
    "SimpleITKBackend",
    "TensorBackend",
    "ZarrBackend",
    "normalize_index",
    "register_backend",
    "registered_backends",
    "resolve_backend",
    "unregister_backend",
]


class TensorBackend:
    """An image held in memory as a ``(C, I, J, K)`` tensor.

    Args:
        data: The tensor (kept, not copied).
        affine: 4 x 4 float64 tensor; the identity if omitted.
    """

    __slots__ = ("_affine", "_data")

    def __init__(self, data: Tensor, affine: Tensor | None = None) -> None:
        self._data = data
        self._affine = torch.eye(4, dtype=torch.float64) if affine is None else affine

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, I, J, K)``."""
        c, i, j, k = self._data.shape
        return (int(c), int(i), int(j), int(k))

    @property
    def affine(self) -> Tensor:
        """The 4 x 4 float64 affine tensor."""
        return self._affine

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype matching the tensor's dtype."""
        return torch.empty(0, dtype=self._data.dtype).numpy().dtype

    def __getitem__(self, item: object) -> Tensor:
        """A view of the selected region, always 4D (see :mod:`.indexing`)."""
        return self._data[normalize_index(item)]

    def to_tensor(self) -> Tensor:
        """A copy of the whole tensor."""
        return self._data.clone()


# -- the built-in backends ------------------------------------------------------------


def _custom_reader(request: BackendRequest) -> bool:
    return isinstance(request.reader, LazyReader)


def _build_custom(request: BackendRequest) -> ImageDataBackend:
    reader: LazyReader = request.reader
    return reader.create_backend(request)


def _remote_zarr(request: BackendRequest) -> bool:
    return request.remote_zarr_uri is not None


def _build_remote_zarr(request: BackendRequest) -> ImageDataBackend:
    return ZarrBackend(request.remote_zarr_uri, affine=request.affine, **request.reader_kwargs)


def _zarr_store(request: BackendRequest) -> bool:
    return request.zarr_store is not None


def _build_zarr_store(request: BackendRequest) -> ImageDataBackend:
    # As in TorchIO: an open store is read by a NibabelBackend over `zarr2nii`'s image.
    nii = open_nifti_zarr(request.zarr_store, **request.reader_kwargs)
    return NibabelBackend(nii, affine=request.affine)


def _zarr_path(request: BackendRequest) -> bool:
    return request.path is not None and is_nifti_zarr(request.path)


def _build_zarr_path(request: BackendRequest) -> ImageDataBackend:
    return ZarrBackend(request.path, affine=request.affine, **request.reader_kwargs)


def _nifti_path(request: BackendRequest) -> bool:
    return request.path is not None and is_nifti(request.path)


def _build_nifti(request: BackendRequest) -> ImageDataBackend:
    assert request.path is not None
    return open_nifti(request.path, request.affine, dict(request.reader_kwargs))


def _sitk_path(request: BackendRequest) -> bool:
    # Custom readers read formats of their own: SimpleITK must not claim them. Files
    # SimpleITK does not recognise are left unmatched (as in TorchIO), so that reading
    # them reports what is wrong.
    if request.reader not in (None, default_reader) or request.path is None:
        return False
    return sitk_can_read(request.path)


def _dicom_dir(request: BackendRequest) -> bool:
    if request.reader not in (None, default_reader) or request.path is None:
        return False
    if not request.path.is_dir() or importlib.util.find_spec("SimpleITK") is None:
        return False
    return bool(dicom_series(request.path))


def _build_dicom(request: BackendRequest) -> ImageDataBackend:
    assert request.path is not None
    return DicomSeriesBackend(
        request.path, affine=request.affine, reader_kwargs=dict(request.reader_kwargs)
    )


def _build_sitk(request: BackendRequest) -> ImageDataBackend:
    assert request.path is not None
    return SimpleITKBackend(
        request.path, affine=request.affine, reader_kwargs=dict(request.reader_kwargs)
    )


def _register_builtin_backends() -> None:
    builtins: list[tuple[str, BackendMatcher, BackendFactory]] = [
        ("custom-reader", _custom_reader, _build_custom),
        ("remote-nifti-zarr", _remote_zarr, _build_remote_zarr),
        ("zarr-store", _zarr_store, _build_zarr_store),
        ("nifti-zarr", _zarr_path, _build_zarr_path),
        ("nifti", _nifti_path, _build_nifti),
        ("dicom-series", _dicom_dir, _build_dicom),
        ("simpleitk", _sitk_path, _build_sitk),
    ]
    for name, matcher, factory in builtins:
        register_backend(name, matcher, factory, prepend=False)


_register_builtin_backends()
