"""From numpy arrays to image tensors, with TorchIO's dtype and axis rules.

Image tensors have shape ``(C, I, J, K)``. NIfTI files store ``(I, J, K)``
(one channel), ``(I, J, K, C)``, or ``(I, J, K, 1, C)`` (vector images as
SimpleITK writes them); any other layout is refused. numpy dtypes that torch
cannot hold are widened: bool to uint8, uint16 to int32, uint32 and uint64 to
int64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

#: dtypes that ``torch.from_numpy`` refuses, and what they become.
PROMOTIONS: dict[np.dtype[Any], np.dtype[Any]] = {
    np.dtype(np.bool_): np.dtype(np.uint8),
    np.dtype(np.uint16): np.dtype(np.int32),
    np.dtype(np.uint32): np.dtype(np.int64),
    np.dtype(np.uint64): np.dtype(np.int64),
}


def promote(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Widen ``array`` to a dtype torch supports, keeping its memory layout.

    Returns ``array`` itself when no widening is needed.
    """
    target = PROMOTIONS.get(array.dtype)
    return array if target is None else array.astype(target, order="K")


def numpy_to_tensor(array: npt.NDArray[Any]) -> Tensor:
    """Copy a user's array into a new C-contiguous tensor (TorchIO's rule for array sources).

    Args:
        array: Any numpy array in native byte order.

    Returns:
        A tensor that shares no memory with ``array``, its dtype promoted.
    """
    return torch.from_numpy(np.ascontiguousarray(promote(array.copy())))


def tensor_shape(file_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The ``(C, I, J, K)`` shape of the tensor made from a file of ``file_shape``.

    Raises:
        ValueError: The file is not 3D, 4D, or 5D with a fourth axis of length 1.
    """
    ndim = len(file_shape)
    if ndim == 3:
        return (1, file_shape[0], file_shape[1], file_shape[2])
    if ndim == 4:
        return (file_shape[3], file_shape[0], file_shape[1], file_shape[2])
    if ndim == 5 and file_shape[3] == 1:
        return (file_shape[4], file_shape[0], file_shape[1], file_shape[2])
    raise ValueError(f"Expected 3D or 4D NIfTI, got {ndim}D (shape {file_shape})")


def channels_first(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """View a file-ordered array as ``(C, I, J, K)`` without copying.

    Args:
        array: Voxels in the file's axis order: 3D, 4D, or 5D with a fourth
            axis of length 1.

    Raises:
        ValueError: Any other number of dimensions.
    """
    tensor_shape(array.shape)  # validates
    if array.ndim == 3:
        return array[np.newaxis]
    if array.ndim == 5:
        array = array[:, :, :, 0, :]
    return np.moveaxis(array, 3, 0)


def file_array_to_tensor(array: npt.NDArray[Any], source: object) -> Tensor:
    """Turn an array read from a file into a ``(C, I, J, K)`` tensor.

    The tensor is a view of the array (no copy) unless its dtype must be
    widened, and it keeps the array's memory layout: arrays read from NIfTI are
    in Fortran order, so the tensor's spatial axes have increasing strides.

    Args:
        array: Native byte order, already in ``(C, I, J, K)`` order.
        source: The file it came from, named in errors.

    Raises:
        TypeError: torch has no dtype for the values (RGB, float128, ...).
    """
    try:
        return torch.from_numpy(promote(array))
    except TypeError:
        raise TypeError(
            f"{source}: cannot make a tensor of voxels of dtype {array.dtype}"
        ) from None
