"""``NiftiBackend``: NIfTI-1, NIfTI-2 and ANALYZE files through the Rust core.

Only the header is read when the backend is made; voxels are read when asked
for, and then only the bytes of the requested region. The file is a local
path, or a :class:`~tioxide.data.sources.StreamSource` (a URL or a file
object holding a ``.nii``/``.nii.gz``) read in place.

:func:`open_nifti` picks the backend of a local file: this one, or nibabel's
loader when the caller passes nibabel's own options (``reader_kwargs``), as
TorchIO does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .. import nifti
from .conversion import channels_first, file_array_to_tensor, tensor_shape
from .indexing import normalize_index
from .io import check_reader_kwargs
from .nibabel_backend import NibabelBackend
from .sources import StreamSource


def open_nifti(
    path: Path, affine: Tensor | npt.ArrayLike | None, reader_kwargs: dict[str, Any]
) -> NibabelBackend:
    """The backend of a local NIfTI/ANALYZE file.

    Without ``reader_kwargs`` the Rust core reads it. With them (``mmap``,
    ``keep_file_open``: options of ``nibabel.load``) the caller asks for
    nibabel's file handling, so nibabel loads it, with those options, as in
    TorchIO; the values are the same either way. The core checks the header
    first, so a bad file gets the same error on both paths. Without nibabel
    installed the options are ignored (they change no value).

    Raises:
        TypeError: A keyword that ``nibabel.load`` does not take.
    """
    check_reader_kwargs(path, reader_kwargs)
    if not reader_kwargs:
        return NiftiBackend(path, affine=affine)
    try:
        import nibabel
    except ImportError:
        return NiftiBackend(path, affine=affine)
    nifti.read_header(path)
    return NibabelBackend(nibabel.load(path, **reader_kwargs), affine=affine)


class NiftiBackend(NibabelBackend):
    """An image in a NIfTI-1, NIfTI-2 or ANALYZE file, read through the Rust core.

    It never uses nibabel, but it is a :class:`NibabelBackend` for
    ``isinstance``: TorchIO reads NIfTI files with that class, and code written
    for TorchIO checks for it.

    Only the header is read on construction. Voxels come from
    :func:`tioxide.nifti.read`, which reads just the bytes a region needs.
    Tensors keep the file's Fortran order (no copy is made).

    Args:
        path: The file (either file of a ``.hdr``/``.img`` pair), or a
            single-file image at a URL or in a file object.
        affine: 4 x 4 affine that replaces the one in the header.
        reader_kwargs: Options of ``nibabel.load``: only ``mmap`` and
            ``keep_file_open`` are allowed, and this class (the core) ignores
            them; :func:`open_nifti` gives a file with options to nibabel.

    Raises:
        FileNotFoundError: The file does not exist.
        tioxide.NiftiError: The file is not a valid NIfTI/ANALYZE image.
        ValueError: The image is not 3D, 4D, or 5D with a fourth axis of length 1.
        TypeError: An unknown reader keyword argument.
    """

    __slots__ = ("_dtype", "_file_shape", "_matrix", "_path", "_stream")

    def __init__(
        self,
        path: str | os.PathLike[str] | StreamSource,
        affine: Tensor | npt.ArrayLike | None = None,
        reader_kwargs: dict[str, Any] | None = None,
    ) -> None:
        kwargs = dict(reader_kwargs or {})
        if isinstance(path, StreamSource):
            self._stream: StreamSource | None = path
            self._path: Path | None = None
            check_reader_kwargs(path.name, kwargs)
            header = path.read_header()
        else:
            self._stream = None
            self._path = Path(path)
            check_reader_kwargs(self._path, kwargs)
            header = nifti.read_header(self._path)
        self._file_shape = header.shape
        try:
            self._shape = tensor_shape(self._file_shape)
        except ValueError as e:
            raise ValueError(f"{self._name}: {e}") from None
        self._dtype = header.dtype
        source = header.affine if affine is None else affine
        self._matrix = torch.as_tensor(source, dtype=torch.float64)

    @property
    def path(self) -> Path | None:
        """The local file read (None for a URL or a file object)."""
        return self._path

    def _read(self, region: Any = None) -> npt.NDArray[Any]:
        if self._stream is not None:
            return self._stream.read(region)
        assert self._path is not None
        return nifti.read(self._path, region)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, I, J, K)``, from the header."""
        return self._shape

    @property
    def affine(self) -> Tensor:
        """The 4 x 4 float64 affine: the override, else the header's best affine."""
        return self._matrix

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype stored in the file, with its byte order (before any scaling)."""
        return self._dtype

    def _file_region(self, c: slice, i: slice, j: slice, k: slice) -> tuple[Any, ...]:
        """The file-order index that reads the tensor region ``[c, i, j, k]``."""
        ndim = len(self._file_shape)
        if ndim == 3:
            return (i, j, k)
        if ndim == 4:
            return (i, j, k, c)
        return (i, j, k, slice(None), c)

    def __getitem__(self, item: object) -> Tensor:
        """Read only the selected region, as a 4D ``(C, I, J, K)`` tensor.

        Args:
            item: An index expression in tensor order (see :mod:`.indexing`).
        """
        c, i, j, k = normalize_index(item)
        array = channels_first(self._read(self._file_region(c, i, j, k)))
        if len(self._file_shape) == 3:
            # The channel axis is not in the file: apply c to it here.
            array = array[: len(range(1)[c])]
        return file_array_to_tensor(array, self._name)

    def to_tensor(self) -> Tensor:
        """Read all voxels as a ``(C, I, J, K)`` tensor (scaled, native byte order)."""
        return file_array_to_tensor(channels_first(self._read()), self._name)

    @property
    def _name(self) -> str:
        return str(self._path) if self._stream is None else self._stream.name

    def __repr__(self) -> str:
        return f"NiftiBackend({self._name!r}, shape={self._shape}, dtype={self._dtype})"
