"""``DicomSeriesBackend``: a directory holding one DICOM series, read with SimpleITK.

The headers of the first and last slices give the geometry; a region reads
only the slice files it covers. TorchIO 2.0.0a2 cannot read directories, so
this backend extends it (images from a directory path are read through it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .indexing import normalize_index
from .sitk_backend import (
    empty_region,
    import_sitk,
    pixel_dtype,
    relative_slice,
    sitk_to_tensor,
    take,
)

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def dicom_series(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The series IDs SimpleITK finds in a directory (none for anything else)."""
    if not os.path.isdir(path):
        return ()
    sitk = import_sitk()
    # GDCM warns on stderr about directories without a series; that is an answer here.
    shown = sitk.ProcessObject.GetGlobalWarningDisplay()
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    try:
        return tuple(sitk.ImageSeriesReader.GetGDCMSeriesIDs(os.fspath(path)))
    finally:
        sitk.ProcessObject.SetGlobalWarningDisplay(shown)


def _header(sitk: Any, filename: str) -> Any:
    reader = sitk.ImageFileReader()
    reader.SetFileName(filename)
    reader.ReadImageInformation()
    return reader


class DicomSeriesBackend:
    """A DICOM series in a directory.

    Args:
        path: The directory.
        affine: 4 x 4 affine that replaces the series' geometry.
        reader_kwargs: ``seriesID``, to choose a series when there are several.

    Raises:
        ImportError: SimpleITK is not installed.
        TypeError: An unknown reader keyword argument.
        IsADirectoryError: The directory holds no DICOM series.
        ValueError: Several series and no ``seriesID``, or an unknown ``seriesID``.
    """

    __slots__ = ("_affine", "_dtype", "_files", "_path", "_shape")

    def __init__(
        self,
        path: str | os.PathLike[str],
        affine: Tensor | npt.ArrayLike | None = None,
        reader_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._path = Path(path)
        kwargs = dict(reader_kwargs or {})
        unknown = sorted(set(kwargs) - {"seriesID"})
        if unknown:
            raise TypeError(
                f"{self._path}: unexpected reader keyword argument(s) {', '.join(unknown)}; "
                "a DICOM series accepts seriesID"
            )
        sitk = import_sitk()
        series = dicom_series(self._path)
        chosen = kwargs.get("seriesID")
        if not series:
            raise IsADirectoryError(f"{self._path}: is a directory, and holds no DICOM series")
        if chosen is None and len(series) > 1:
            raise ValueError(
                f"{self._path}: {len(series)} DICOM series; choose one with "
                f"reader_kwargs={{'seriesID': ...}}: {', '.join(series)}"
            )
        if chosen is not None and chosen not in series:
            raise ValueError(f"{self._path}: no DICOM series {chosen!r}; found {', '.join(series)}")
        self._files: tuple[str, ...] = tuple(
            sitk.ImageSeriesReader.GetGDCMSeriesFileNames(os.fspath(self._path), chosen or "")
        )
        first = _header(sitk, self._files[0])
        i, j = first.GetSize()[:2]
        self._shape = (int(first.GetNumberOfComponents()), int(i), int(j), len(self._files))
        self._dtype = pixel_dtype(sitk, first.GetPixelID(), self._path)
        if affine is None:
            affine = self._geometry(sitk, first)
        self._affine = torch.as_tensor(affine, dtype=torch.float64)

    def _geometry(self, sitk: Any, first: Any) -> npt.NDArray[np.float64]:
        """The RAS+ affine: in-plane axes from the first slice, slice step from first to last."""
        lps = np.eye(4)
        direction = np.asarray(first.GetDirection(), dtype=np.float64).reshape(3, 3)
        spacing = np.asarray(first.GetSpacing(), dtype=np.float64)
        lps[:3, :3] = direction * spacing
        lps[:3, 3] = first.GetOrigin()
        if len(self._files) > 1:
            last = _header(sitk, self._files[-1])
            step = (np.asarray(last.GetOrigin()) - np.asarray(first.GetOrigin())) / (
                len(self._files) - 1
            )
            lps[:3, 2] = step
        return np.asarray(_LPS_TO_RAS @ lps, dtype=np.float64)

    @property
    def path(self) -> Path:
        """The directory."""
        return self._path

    @property
    def files(self) -> tuple[str, ...]:
        """The slice files, in the order SimpleITK sorts them."""
        return self._files

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, I, J, K)``; ``K`` is the number of slices."""
        return self._shape

    @property
    def affine(self) -> Tensor:
        """The RAS+ affine (or the override)."""
        return self._affine

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype SimpleITK reads the slices as."""
        return self._dtype

    def _read(self, files: Sequence[str]) -> Tensor:
        reader = import_sitk().ImageSeriesReader()
        reader.SetFileNames(list(files))
        tensor, _ = sitk_to_tensor(reader.Execute(), self._path)
        return tensor

    def __getitem__(self, item: object) -> Tensor:
        """Read only the slice files the region covers."""
        c, i, j, k = normalize_index(item)
        ranges = [range(*s.indices(n)) for s, n in zip((i, j, k), self._shape[1:], strict=True)]
        if not all(ranges):
            return empty_region(self._shape[0], ranges, c, self._dtype, self._path)
        slices = ranges[2]
        low = min(slices)
        region = self._read(self._files[low : max(slices) + 1])
        return take(region, (c, i, j, relative_slice(slices, low)))

    def to_tensor(self) -> Tensor:
        """The whole series as a 4D ``(C, I, J, K)`` tensor."""
        return self._read(self._files)

    def __repr__(self) -> str:
        return f"DicomSeriesBackend({str(self._path)!r}, shape={self._shape}, dtype={self._dtype})"
