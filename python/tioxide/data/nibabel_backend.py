"""``NibabelBackend``: an image held by a nibabel image object (from a file or from memory).

Used for ``Image(nib.Nifti1Image(...))`` and for NIfTI-Zarr, whose reader
returns a nibabel image over a dask array. Voxels come from the object's
``dataobj``, which nibabel reads (or slices) on demand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .conversion import channels_first, file_array_to_tensor, tensor_shape
from .indexing import normalize_index


def _tensor_of(array: npt.NDArray[Any], source: object) -> Tensor:
    """A tensor that owns writable, native-endian memory (nibabel may hand out read-only maps)."""
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    elif not array.flags.writeable:
        array = array.copy()
    if any(stride < 0 for stride in array.strides):
        array = np.ascontiguousarray(array)
    return file_array_to_tensor(array, source)


class NibabelBackend:
    """An image in a nibabel image object.

    Args:
        nii: A nibabel spatial image (``Nifti1Image``, ``Nifti2Image`` ...).
        affine: 4 x 4 affine that replaces the image's best affine.

    Raises:
        ValueError: The image is not 3D, 4D, or 5D with a fourth axis of length 1.
    """

    __slots__ = ("_affine", "_file_ndim", "_nii", "_shape")

    def __init__(self, nii: Any, affine: Tensor | npt.ArrayLike | None = None) -> None:
        self._nii = nii
        self._affine = None if affine is None else torch.as_tensor(affine, dtype=torch.float64)
        file_shape = tuple(int(n) for n in nii.header.get_data_shape())
        self._file_ndim = len(file_shape)
        self._shape = tensor_shape(file_shape)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, I, J, K)``, from the header."""
        return self._shape

    @property
    def affine(self) -> Tensor:
        """The override, else the header's best affine (as nibabel computes it)."""
        if self._affine is not None:
            return self._affine
        return torch.as_tensor(self._nii.header.get_best_affine(), dtype=torch.float64)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype in the header (before any scaling)."""
        dtype: np.dtype[Any] = np.dtype(self._nii.header.get_data_dtype())
        return dtype

    def __getitem__(self, item: object) -> Tensor:
        """Only the selected region, as a 4D ``(C, I, J, K)`` tensor."""
        c, i, j, k = normalize_index(item)
        if self._file_ndim == 3:
            array = np.asarray(self._nii.dataobj[i, j, k])[np.newaxis][c]
        elif self._file_ndim == 4:
            array = np.moveaxis(np.asarray(self._nii.dataobj[i, j, k, c]), 3, 0)
        else:
            array = np.moveaxis(np.asarray(self._nii.dataobj[i, j, k, :, c])[:, :, :, 0], 3, 0)
        return _tensor_of(array, "nibabel image")

    def to_tensor(self) -> Tensor:
        """All voxels (scaled as nibabel scales them) as a 4D tensor."""
        return _tensor_of(channels_first(np.asarray(self._nii.dataobj)), "nibabel image")

    def __repr__(self) -> str:
        return f"NibabelBackend(shape={self._shape}, dtype={self.dtype})"
