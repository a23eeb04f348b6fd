"""``SimpleITKBackend``: the formats SimpleITK reads (NRRD, MHA/MHD, ...), and ``sitk.Image``.

SimpleITK works in LPS+ world coordinates and ``(K, J, I)`` array order;
images are RAS+ and ``(C, I, J, K)``, so axes are reversed and the first two
world axes negated, as TorchIO does when it reads these files. The header is
read on its own (``ReadImageInformation``), and regions are read with
SimpleITK's extraction, which streams for formats that support it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .conversion import file_array_to_tensor
from .extras import require
from .indexing import normalize_index

#: ``reader_kwargs`` understood here: the keyword arguments of ``SimpleITK.ReadImage``.
SITK_READER_KWARGS = frozenset({"outputPixelType", "imageIO"})

_RAS_FROM_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def import_sitk() -> Any:
    """The SimpleITK module, or an ImportError naming the extra that installs it."""
    return require("SimpleITK", "sitk", purpose="Reading non-NIfTI images")


def ras_affine(spacing: Any, origin: Any, direction: Any) -> npt.NDArray[np.float64]:
    """The RAS+ 4 x 4 affine of a SimpleITK (LPS+) geometry."""
    lps = np.eye(4)
    lps[:3, :3] = np.asarray(direction, dtype=np.float64).reshape(3, 3) * np.asarray(spacing)
    lps[:3, 3] = origin
    return np.asarray(_RAS_FROM_LPS @ lps, dtype=np.float64)


_COMPONENT_TYPES = "UInt8 Int8 UInt16 Int16 UInt32 Int32 UInt64 Int64 Float32 Float64".split()


def pixel_dtype(sitk: Any, pixel_id: int, source: object) -> np.dtype[Any]:
    """The numpy dtype of a SimpleITK pixel type (vector types give their component's).

    Raises:
        ValueError: A pixel type with no numpy equivalent (label maps ...).
    """
    for name in _COMPONENT_TYPES:
        if pixel_id in (getattr(sitk, f"sitk{name}"), getattr(sitk, f"sitkVector{name}")):
            return np.dtype(name.lower())
    if pixel_id == sitk.sitkComplexFloat32:
        return np.dtype(np.complex64)
    if pixel_id == sitk.sitkComplexFloat64:
        return np.dtype(np.complex128)
    name = sitk.GetPixelIDValueAsString(pixel_id)
    raise ValueError(f"{source}: SimpleITK pixel type {name!r} has no numpy dtype")


def sitk_can_read(path: str | os.PathLike[str]) -> bool:
    """Whether SimpleITK is installed and has a reader for this existing file."""
    if not os.path.isfile(path) or importlib.util.find_spec("SimpleITK") is None:
        return False
    return bool(import_sitk().ImageFileReader().GetImageIOFromFileName(os.fspath(path)))


def _check_dimension(ndim: int, source: object) -> None:
    if ndim != 3:
        raise ValueError(f"{source}: Expected 3D image, got {ndim}D")


def sitk_to_tensor(image: Any, source: object) -> tuple[Tensor, npt.NDArray[np.float64]]:
    """The ``(C, I, J, K)`` tensor and RAS+ affine of a 3D ``SimpleITK.Image``.

    Raises:
        ValueError: The image is not 3D.
    """
    sitk = import_sitk()
    _check_dimension(image.GetDimension(), source)
    array = sitk.GetArrayFromImage(image)  # a new array: views of it need no copy
    if image.GetNumberOfComponentsPerPixel() == 1:
        array = array.T[np.newaxis]
    else:
        array = np.moveaxis(array.transpose(2, 1, 0, 3), 3, 0)
    affine = ras_affine(image.GetSpacing(), image.GetOrigin(), image.GetDirection())
    return file_array_to_tensor(array, source), affine


class SimpleITKBackend:
    """An image in a file SimpleITK reads, read on demand.

    Args:
        path: The file.
        affine: 4 x 4 affine that replaces the file's.
        reader_kwargs: ``outputPixelType`` and ``imageIO``, as for
            ``SimpleITK.ReadImage``.

    Raises:
        ImportError: SimpleITK is not installed.
        FileNotFoundError: The file does not exist.
        IsADirectoryError: The path is a directory.
        TypeError: An unknown reader keyword argument.
        ValueError: SimpleITK cannot read the file, or the image is not 3D.
    """

    __slots__ = ("_affine", "_dtype", "_kwargs", "_path", "_shape")

    def __init__(
        self,
        path: str | os.PathLike[str],
        affine: Tensor | npt.ArrayLike | None = None,
        reader_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._path = Path(path)
        self._kwargs = dict(reader_kwargs or {})
        unknown = sorted(set(self._kwargs) - SITK_READER_KWARGS)
        if unknown:
            raise TypeError(
                f"{self._path}: unexpected reader keyword argument(s) {', '.join(unknown)}; "
                f"the SimpleITK reader accepts {', '.join(sorted(SITK_READER_KWARGS))}"
            )
        if self._path.is_dir():
            raise IsADirectoryError(f"{self._path}: is a directory, not an image file")
        if not self._path.exists():
            raise FileNotFoundError(f"{self._path}: no such file")
        reader = self._reader()
        try:
            reader.ReadImageInformation()
        except RuntimeError as e:
            detail = str(e).strip().splitlines()[-1] if str(e).strip() else ""
            raise ValueError(
                f"{self._path}: unsupported image format; neither the NIfTI reader nor "
                f"SimpleITK can read it ({detail})"
            ) from None
        _check_dimension(reader.GetDimension(), self._path)
        i, j, k = reader.GetSize()
        self._shape = (int(reader.GetNumberOfComponents()), int(i), int(j), int(k))
        sitk = import_sitk()
        pixel_id = self._kwargs.get("outputPixelType", sitk.sitkUnknown)
        if pixel_id == sitk.sitkUnknown:
            pixel_id = reader.GetPixelID()
        self._dtype = pixel_dtype(sitk, pixel_id, self._path)
        if affine is None:
            affine = ras_affine(reader.GetSpacing(), reader.GetOrigin(), reader.GetDirection())
        self._affine = torch.as_tensor(affine, dtype=torch.float64)

    def _reader(self) -> Any:
        reader = import_sitk().ImageFileReader()
        reader.SetFileName(str(self._path))
        if "imageIO" in self._kwargs:
            reader.SetImageIO(self._kwargs["imageIO"])
        if "outputPixelType" in self._kwargs:
            reader.SetOutputPixelType(self._kwargs["outputPixelType"])
        return reader

    @property
    def path(self) -> Path:
        """The file read."""
        return self._path

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, I, J, K)``, from the header."""
        return self._shape

    @property
    def affine(self) -> Tensor:
        """The RAS+ affine (or the override)."""
        return self._affine

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype the voxels are read as."""
        return self._dtype

    def __getitem__(self, item: object) -> Tensor:
        """Read the bounding box of the selected region, then take the region from it."""
        c, *spatial = normalize_index(item)
        ranges = [range(*s.indices(n)) for s, n in zip(spatial, self._shape[1:], strict=True)]
        if not all(ranges):
            return empty_region(self._shape[0], ranges, c, self._dtype, self._path)
        low = [min(r) for r in ranges]
        size = [max(r) - min(r) + 1 for r in ranges]
        reader = self._reader()
        reader.SetExtractIndex(low)
        reader.SetExtractSize(size)
        tensor, _ = sitk_to_tensor(reader.Execute(), self._path)
        steps = [relative_slice(r, lo) for r, lo in zip(ranges, low, strict=True)]
        return take(tensor, (c, *steps))

    def to_tensor(self) -> Tensor:
        """All voxels as a 4D ``(C, I, J, K)`` tensor."""
        tensor, _ = sitk_to_tensor(self._reader().Execute(), self._path)
        return tensor

    def __repr__(self) -> str:
        return f"SimpleITKBackend({str(self._path)!r}, shape={self._shape}, dtype={self._dtype})"


def relative_slice(r: range, low: int) -> slice:
    """The slice that walks ``r`` in an array starting at index ``low``."""
    stop = r[-1] - low + (1 if r.step > 0 else -1)
    return slice(r.start - low, None if stop < 0 else stop, r.step)


def take(tensor: Tensor, index: tuple[slice, ...]) -> Tensor:
    """``tensor[index]``, negative steps allowed (taken in numpy, then made contiguous)."""
    array = tensor.numpy()[index]
    if any(stride < 0 for stride in array.strides):
        array = np.ascontiguousarray(array)
    return torch.from_numpy(array)


def empty_region(
    channels: int, ranges: list[range], c: slice, dtype: np.dtype[Any], source: object
) -> Tensor:
    """The empty tensor a region selecting no voxel gives, in the dtype reads give."""
    tensor_dtype = file_array_to_tensor(np.zeros(0, dtype=dtype), source).dtype
    return torch.empty(channels, *(len(r) for r in ranges), dtype=tensor_dtype)[c]


def read_sitk(path: Path, **kwargs: Any) -> tuple[Tensor, npt.NDArray[np.float64]]:
    """Read a whole file with SimpleITK: its ``(C, I, J, K)`` tensor and RAS+ affine."""
    backend = SimpleITKBackend(path, reader_kwargs=kwargs)
    return backend.to_tensor(), backend.affine.numpy()
