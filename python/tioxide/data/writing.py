"""Writing images: NIfTI with the Rust core, NIfTI-Zarr with nifti-zarr, the rest with SimpleITK.

TorchIO writes every format with SimpleITK, which turns oblique affines
orthogonal when it writes NIfTI; the Rust writer stores the affine as given
(sform and qform, both with code 1). A multichannel image is written to NIfTI
as ``(I, J, K, C)``, which tioxide, TorchIO and nibabel all read back as the
same ``(C, I, J, K)`` tensor.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import nifti
from .extras import require
from .sitk_backend import import_sitk
from .zarr_backend import import_niizarr, is_nifti_zarr

#: ``SimpleITK.WriteImage`` keyword arguments accepted for NIfTI files.
NIFTI_WRITE_KWARGS = frozenset({"useCompression", "compressionLevel"})

_LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def _file_array(data: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``(C, I, J, K)`` as a NIfTI array: ``(I, J, K)`` for one channel, else ``(I, J, K, C)``."""
    return data[0] if data.shape[0] == 1 else np.moveaxis(data, 0, 3)


def save_nifti(
    path: Path, data: npt.NDArray[Any], affine: npt.NDArray[np.float64], **kwargs: Any
) -> None:
    """Write a ``(C, I, J, K)`` array as ``.nii`` or ``.nii.gz`` with the Rust writer.

    Args:
        path: The file (the suffix decides compression).
        data: The voxels.
        affine: The RAS+ 4 x 4 affine.
        **kwargs: ``compressionLevel`` (0-9; -1 for the default, run-length matches
            only, see :func:`tioxide.nifti.write`) and
            ``useCompression`` (ignored: the suffix decides), as for SimpleITK.

    Raises:
        TypeError: Another keyword argument, or a dtype NIfTI cannot store.
    """
    unknown = sorted(set(kwargs) - NIFTI_WRITE_KWARGS)
    if unknown:
        raise TypeError(
            f"{path}: unexpected keyword argument(s) {', '.join(unknown)} for writing NIfTI; "
            f"accepted: {', '.join(sorted(NIFTI_WRITE_KWARGS))}"
        )
    level = int(kwargs.get("compressionLevel", -1))
    nifti.write(path, _file_array(data), affine, level=None if level < 0 else level)


def save_sitk(
    path: Path, data: npt.NDArray[Any], affine: npt.NDArray[np.float64], **kwargs: Any
) -> None:
    """Write a ``(C, I, J, K)`` array with SimpleITK (LPS+ geometry, ``(K, J, I)`` order).

    Args:
        **kwargs: Passed to ``SimpleITK.WriteImage``.
    """
    sitk = import_sitk()
    if data.shape[0] == 1:
        image = sitk.GetImageFromArray(np.ascontiguousarray(data[0].T))
    else:
        image = sitk.GetImageFromArray(
            np.ascontiguousarray(data.transpose(3, 2, 1, 0)), isVector=True
        )
    lps = _LPS_FROM_RAS @ affine
    spacing = np.linalg.norm(lps[:3, :3], axis=0)
    image.SetSpacing(spacing.tolist())
    image.SetOrigin(lps[:3, 3].tolist())
    image.SetDirection((lps[:3, :3] / spacing).ravel().tolist())
    sitk.WriteImage(image, os.fspath(path), **kwargs)


def save_nifti_zarr(path: Path, data: npt.NDArray[Any], affine: npt.NDArray[np.float64]) -> None:
    """Write a ``.nii.zarr`` store (needs ``pip install tioxide[zarr]``), as TorchIO writes it.

    The voxels go to nifti-zarr as a ``Nifti1Image`` of the NIfTI array (so a
    multichannel image is ``(I, J, K, C)``) with ``affine`` in its header;
    nifti-zarr adds the pyramid levels.

    Raises:
        ImportError: ``nifti-zarr`` is not installed.
    """
    niizarr = import_niizarr("Writing NIfTI-Zarr images")
    nibabel = require("nibabel", "zarr", purpose="Writing NIfTI-Zarr images")
    niizarr.nii2zarr(nibabel.Nifti1Image(_file_array(data), affine), os.fspath(path))


def save(
    path: str | os.PathLike[str],
    data: npt.NDArray[Any],
    affine: npt.NDArray[np.float64],
    **kwargs: Any,
) -> None:
    """Write an image's ``(C, I, J, K)`` voxels and RAS+ affine, choosing the writer by suffix."""
    path = Path(path)
    name = path.name.lower()
    if is_nifti_zarr(path):
        if kwargs:
            raise TypeError(f"{path}: writing NIfTI-Zarr takes no keyword arguments")
        save_nifti_zarr(path, data, affine)
    elif name.endswith((".nii", ".nii.gz")):
        save_nifti(path, data, affine, **kwargs)
    else:
        save_sitk(path, data, affine, **kwargs)
