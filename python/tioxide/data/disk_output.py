"""Patch outputs accumulated on disk, for volumes larger than memory.

:class:`DiskAccumulation` keeps one aggregated output in a NIfTI file that the Rust
core writes block by block (``tioxide._core.PendingNifti``), and, for the
blending modes, its running sum and weights in nameless scratch files. Each
patch costs a positioned read and write of its own voxels; the process never
holds more than a patch (and, when finishing, one slab of the volume), so a
4 GiB output aggregates in a few MiB. The arithmetic is the in-memory
aggregator's, element for element and in the same order, so the file holds
exactly what ``PatchAggregator.get_output()`` would have returned.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .. import _core, nifti
from ._accumulation import Box

#: Voxels per slab when dividing the sum by the weights at the end.
_SLAB_VOXELS = 1 << 20

Array = npt.NDArray[Any]
Index = tuple[int, int, int]


def _block(start: Index, size: Index, channels: int) -> tuple[list[int], list[int]]:
    """File-array block of a ``(C, I, J, K)`` patch: ``(I, J, K)`` or ``(I, J, K, C)``."""
    if channels == 1:
        return list(start), list(size)
    return [*start, 0], [*size, channels]


def _to_file(patch: Array) -> Array:
    """A ``(C, I, J, K)`` patch as Fortran-ordered bytes of its file block."""
    block = patch[0] if patch.shape[0] == 1 else np.moveaxis(patch, 0, 3)
    return np.asfortranarray(block).reshape(-1, order="F").view(np.uint8)


def _from_file(raw: Array, dtype: np.dtype[Any], shape: tuple[int, ...]) -> Array:
    """Bytes of a file block back as a ``(C, I, J, K)`` array."""
    channels, spatial = shape[0], shape[1:]
    if channels == 1:
        return raw.view(dtype).reshape(spatial, order="F")[np.newaxis]
    return np.moveaxis(raw.view(dtype).reshape((*spatial, channels), order="F"), 3, 0)


class DiskAccumulation:
    """One ``(C, I, J, K)`` output written to ``path`` as patches arrive (an
    :class:`~tioxide.data._accumulation.Accumulation`).

    Args:
        path: The NIfTI file to produce (``.nii`` or ``.nii.gz``); it appears
            only when :meth:`finish` succeeds.
        channels: ``C``.
        spatial_shape: ``(I, J, K)``.
        dtype: The patches' dtype (also the file's).
        affine: The file's affine.
        weighted: Whether patches are summed with weights (``'average'``,
            ``'hann'``) rather than placed (``'crop'``).

    Raises:
        TypeError: Weighted accumulation of an integer dtype.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        channels: int,
        spatial_shape: Index,
        dtype: torch.dtype,
        affine: Array,
        *,
        weighted: bool,
    ) -> None:
        self.path = Path(path)
        self.channels = channels
        self.spatial_shape = spatial_shape
        self.dtype = torch.empty(0, dtype=dtype).numpy().dtype
        if weighted and self.dtype.kind not in "fc":
            raise TypeError(f"{self.path}: cannot average patches of dtype {dtype} on disk")
        file_shape = list(spatial_shape) if channels == 1 else [*spatial_shape, channels]
        self._file = _core.PendingNifti(
            os.fspath(self.path),
            file_shape,
            self.dtype.str.lstrip("<>|="),
            np.asarray(affine, dtype=np.float64).tolist(),
        )
        # The weights are the same for every channel, so one volume holds them.
        self._weights = (
            _core.ScratchArray(
                os.fspath(self.path.parent), list(spatial_shape), self.dtype.itemsize
            )
            if weighted
            else None
        )
        self._finished = False

    def _read(self, start: Index, size: Index, weights: bool) -> Array:
        if weights:
            assert self._weights is not None
            raw = self._weights.read_block(list(start), list(size))
            return _from_file(raw, self.dtype, (1, *size))
        raw = self._file.read_block(*_block(start, size, self.channels))
        return _from_file(raw, self.dtype, (self.channels, *size))

    def _write(self, start: Index, values: Array, weights: bool = False) -> None:
        size = (values.shape[1], values.shape[2], values.shape[3])
        if weights:
            assert self._weights is not None
            self._weights.write_block(list(start), list(size), _to_file(values))
        else:
            self._file.write_block(*_block(start, size, self.channels), _to_file(values))

    def place(self, box: Box, values: Tensor) -> None:
        """Overwrite the voxels of ``box`` with ``values``."""
        self._write(_start(box), values.detach().numpy())

    def accumulate(self, box: Box, values: Tensor, weights: Tensor | float) -> None:
        """Add ``values`` to the sum and ``weights`` to the total weight in ``box``."""
        if self._weights is None:
            raise RuntimeError("This accumulation places values; it has no weights")
        start, size = _start(box), _size(box)
        total = self._read(start, size, weights=False)
        total += values.detach().numpy()
        self._write(start, total)
        weight = self._read(start, size, weights=True)
        weight += weights if isinstance(weights, int | float) else weights.detach().numpy()
        self._write(start, weight, weights=True)

    def finish(self) -> Path:
        """Divide the sum by the weights (weighted modes; total weights below 1
        count as 1, as in memory) slab by slab, and move the file into place."""
        if self._finished:
            return self.path
        if self._weights is not None:
            i, j, k = self.spatial_shape
            per_slab = max(1, _SLAB_VOXELS // max(1, i * j * self.channels))
            for k0 in range(0, k, per_slab):
                start, size = (0, 0, k0), (i, j, min(per_slab, k - k0))
                total = self._read(start, size, weights=False)
                weight = self._read(start, size, weights=True)
                self._write(start, total / np.maximum(weight, self.dtype.type(1)))
            self._weights = None
        self._file.finish()
        self._finished = True
        return self.path

    def result(self) -> Tensor:
        """The finished file's voxels as a ``(C, I, J, K)`` tensor (all of them in memory)."""
        data = nifti.read(self.finish())
        array = data[np.newaxis] if self.channels == 1 else np.moveaxis(data, 3, 0)
        return torch.from_numpy(np.ascontiguousarray(array))


def _start(box: Box) -> Index:
    return (box[0].start or 0, box[1].start or 0, box[2].start or 0)


def _size(box: Box) -> Index:
    lo = _start(box)
    return (box[0].stop - lo[0], box[1].stop - lo[1], box[2].stop - lo[2])
