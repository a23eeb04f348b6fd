"""Affine transforms in files: ITK (``.tfm``, ``.h5``) and NiftyReg
(``.txt``, ``.trsf``), read and written as 4 x 4 RAS matrices (TorchIO 2's
``torchio.io``).

Both tools store the transform that resamples, mapping points of the
reference (fixed) image to the floating (moving) one; the matrices here are
their inverses, which move the floating image onto the reference. ITK works
in LPS coordinates and NiftyReg in RAS.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .types import TypePath

_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])  # RAS <-> LPS (its own inverse)
_ITK = (".tfm", ".h5")
_NIFTYREG = (".txt", ".trsf")
# ITK transform types whose parameters are a 3 x 3 matrix then a translation.
_ITK_MATRIX_TYPES = ("AffineTransform", "MatrixOffsetTransformBase")


def read_matrix(path: TypePath) -> Tensor:
    """The affine transform in ``path`` as a 4 x 4 float64 RAS tensor.

    Raises:
        ValueError: An unknown suffix, or a file that does not hold one
            affine transform (the message names the file).
        FileNotFoundError: ``path`` does not exist.
        ImportError: A ``.h5`` file without SimpleITK installed.
    """
    path = Path(os.fspath(path))
    suffix = _suffix(path)
    if not path.is_file():
        raise FileNotFoundError(f"no transform file at {path}")
    if suffix in _ITK:
        lps = _read_itk_h5(path) if suffix == ".h5" else _read_itk_text(path)
        return torch.from_numpy(np.linalg.inv(_LPS @ lps @ _LPS))
    return torch.from_numpy(np.linalg.inv(_read_niftyreg(path)))


def write_matrix(matrix: Tensor | npt.ArrayLike, path: TypePath) -> None:
    """Write the 4 x 4 RAS ``matrix`` to ``path``, in the format its suffix names.

    Raises:
        ValueError: An unknown suffix, or a matrix that is not 4 x 4 and
            invertible.
        ImportError: A ``.h5`` file without SimpleITK installed.
    """
    path = Path(os.fspath(path))
    suffix = _suffix(path)
    ras = _as_matrix(matrix)
    if suffix in _ITK:
        lps = np.asarray(np.linalg.inv(_LPS @ ras @ _LPS), dtype=np.float64)
        if suffix == ".h5":
            _write_itk_h5(lps, path)
        else:
            _write_itk_text(lps, path)
    else:
        np.savetxt(path, np.linalg.inv(ras), fmt="%.8f")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _ITK + _NIFTYREG:
        known = ", ".join(_ITK + _NIFTYREG)
        raise ValueError(f'unknown suffix for a transform file: "{path.suffix}" ({known})')
    return suffix


def _as_matrix(matrix: Any) -> npt.NDArray[np.float64]:
    if isinstance(matrix, Tensor):
        matrix = matrix.detach().cpu().numpy()
    elif hasattr(matrix, "numpy") and callable(matrix.numpy):  # AffineMatrix
        matrix = matrix.numpy()
    array = np.asarray(matrix, dtype=np.float64)
    if array.shape != (4, 4):
        raise ValueError(f"an affine matrix must be 4 x 4, got shape {array.shape}")
    if not np.all(np.isfinite(array)) or abs(np.linalg.det(array[:3, :3])) < 1e-12:
        raise ValueError("the affine matrix is not invertible")
    return array


def _homogeneous(
    linear: npt.NDArray[np.float64],
    translation: npt.NDArray[np.float64],
    centre: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """ITK's ``y = A (x - c) + c + t`` as a 4 x 4 matrix."""
    out = np.eye(4)
    out[:3, :3] = linear
    out[:3, 3] = translation + centre - linear @ centre
    return out


def _read_itk_text(path: Path) -> npt.NDArray[np.float64]:
    """The LPS matrix of the one affine transform in an ITK text file."""
    fields: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            fields.setdefault(key.strip(), value.strip())
    kind = fields.get("Transform", "")
    if not kind.startswith(_ITK_MATRIX_TYPES) or not kind.endswith("_3_3"):
        found = f"a {kind!r} transform" if kind else "no transform"
        raise ValueError(f"{path}: expected a 3-D affine ITK transform, found {found}")
    try:
        params = np.array(fields["Parameters"].split(), dtype=np.float64)
        fixed = np.array(fields.get("FixedParameters", "0 0 0").split(), dtype=np.float64)
    except (KeyError, ValueError) as e:
        raise ValueError(f"{path}: unreadable transform parameters ({e})") from None
    if params.shape != (12,) or fixed.shape != (3,):
        raise ValueError(
            f"{path}: an affine transform has 12 parameters and 3 fixed ones, "
            f"found {params.size} and {fixed.size}"
        )
    return _homogeneous(params[:9].reshape(3, 3), params[9:], fixed)


def _write_itk_text(lps: npt.NDArray[np.float64], path: Path) -> None:
    numbers = [*lps[:3, :3].ravel(), *lps[:3, 3]]
    text = (
        "#Insight Transform File V1.0\n"
        "#Transform 0\n"
        "Transform: AffineTransform_double_3_3\n"
        f"Parameters: {' '.join(repr(float(x)) for x in numbers)}\n"
        "FixedParameters: 0 0 0\n"
    )
    path.write_text(text)


def _sitk() -> Any:
    from .data.extras import require

    return require("SimpleITK", "sitk", purpose="Reading and writing .h5 transforms")


def _read_itk_h5(path: Path) -> npt.NDArray[np.float64]:
    sitk = _sitk()
    try:
        transform = sitk.ReadTransform(str(path)).Downcast()
        linear = np.array(transform.GetMatrix(), dtype=np.float64)
        translation = np.array(transform.GetTranslation(), dtype=np.float64)
        centre = np.array(transform.GetCenter(), dtype=np.float64)
    except (RuntimeError, AttributeError) as e:
        raise ValueError(f"{path}: not a readable 3-D affine ITK transform ({e})") from None
    if linear.shape != (9,) or translation.shape != (3,):
        raise ValueError(f"{path}: not a 3-D affine ITK transform")
    return _homogeneous(linear.reshape(3, 3), translation, centre)


def _write_itk_h5(lps: npt.NDArray[np.float64], path: Path) -> None:
    sitk = _sitk()
    transform = sitk.AffineTransform(lps[:3, :3].ravel().tolist(), lps[:3, 3].tolist())
    transform.WriteTransform(str(path))


def _read_niftyreg(path: Path) -> npt.NDArray[np.float64]:
    try:
        matrix = np.loadtxt(path, dtype=np.float64)
    except ValueError as e:
        raise ValueError(f"{path}: not a NiftyReg matrix ({e})") from None
    if matrix.shape != (4, 4):
        raise ValueError(f"{path}: a NiftyReg matrix is 4 x 4, found shape {matrix.shape}")
    if abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
        raise ValueError(f"{path}: the matrix is not invertible")
    return matrix
