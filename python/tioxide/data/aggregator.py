"""``PatchAggregator``: putting model outputs for grid patches back into one volume."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from ._accumulation import Accumulation, Box, InMemoryAccumulation
from .disk_output import DiskAccumulation
from .image import ScalarImage
from .patch import PatchLocation, ThreeInts

OVERLAP_MODES = ("crop", "average", "hann")

#: Key of the output when :meth:`PatchAggregator.add_batch` gets a tensor, not a dict.
_DEFAULT_KEY = "__default__"


class PatchAggregator:
    """Assemble a volume from patches, e.g. a network's outputs on a :class:`GridSampler`.

    Args:
        spatial_shape: ``(I, J, K)`` of the volume the patches were cut from.
        overlap_mode: What overlapping patches give: ``'crop'`` keeps each
            patch's centre (half the overlap trimmed on inner sides; later
            patches win where trimmed patches still meet); ``'average'`` the
            mean of the patches covering a voxel; ``'hann'`` their mean weighted
            by a Hann window (smooth seams; voxels whose total weight is below
            1, near the volume's border, are divided by 1, as in TorchIO).
        patch_overlap: The sampler's overlap (used by ``'crop'``).
        output_shape: ``(I, J, K)`` of the output if the outputs have another
            resolution than the input (e.g. a downsampling network); locations
            and overlap are scaled by ``output_shape / spatial_shape``.
        output_path: Not in TorchIO: accumulate on disk, for outputs larger
            than memory. The output is written to this NIfTI file (``.nii`` or
            ``.nii.gz``; a mapping from key to file for dict outputs) as
            patches arrive, and the process holds only a patch at a time;
            :meth:`save_output` finishes the file. The values are those the
            in-memory aggregator would give.
        affine: The affine of the files written with ``output_path``
            (identity by default).

    Raises:
        ValueError: An unknown ``overlap_mode``.

    Examples:
        >>> import torch, tioxide as tio
        >>> subject = tio.Subject(t1=tio.ScalarImage(torch.rand(1, 10, 10, 10)))
        >>> sampler = tio.GridSampler(subject, patch_size=6, patch_overlap=2)
        >>> aggregator = tio.PatchAggregator(subject.spatial_shape, "crop", patch_overlap=2)
        >>> for patch in sampler:
        ...     aggregator.add_batch(patch.t1.data[None], [patch.patch_location])
        >>> torch.equal(aggregator.get_output(), subject.t1.data)
        True
    """

    def __init__(
        self,
        spatial_shape: ThreeInts,
        overlap_mode: str = "crop",
        patch_overlap: int | ThreeInts = 0,
        output_shape: ThreeInts | None = None,
        *,
        output_path: str | os.PathLike[str] | Mapping[str, str | os.PathLike[str]] | None = None,
        affine: npt.ArrayLike | None = None,
    ) -> None:
        if overlap_mode not in OVERLAP_MODES:
            raise ValueError(f"overlap_mode must be one of {OVERLAP_MODES}, got {overlap_mode!r}")
        self.input_spatial_shape = spatial_shape
        self.overlap_mode = overlap_mode
        if isinstance(patch_overlap, int):
            patch_overlap = (patch_overlap, patch_overlap, patch_overlap)
        self.patch_overlap: ThreeInts = patch_overlap
        if output_shape is None:
            self.spatial_shape = spatial_shape
            self._scale = (1.0, 1.0, 1.0)
        else:
            self.spatial_shape = output_shape
            si, sj, sk = (out / inp for out, inp in zip(output_shape, spatial_shape, strict=True))
            self._scale = (si, sj, sk)
        self._output_path = output_path
        self._affine = np.eye(4) if affine is None else np.asarray(affine, dtype=np.float64)
        self._outputs: dict[str, Accumulation] = {}
        self._hann_cache: dict[ThreeInts, Tensor] = {}

    # -- public API -----------------------------------------------------------------------

    def add_batch(
        self, batch: Tensor | dict[str, Tensor], locations: Sequence[PatchLocation]
    ) -> None:
        """Add a batch of patches.

        Args:
            batch: ``(B, C, I, J, K)`` outputs, or a dict of them (one output
                volume per key).
            locations: Where each of the ``B`` patches was cut.
        """
        tensors = {_DEFAULT_KEY: batch} if isinstance(batch, Tensor) else batch
        for key, tensor in tensors.items():
            on_cpu = tensor.cpu()
            for n, location in enumerate(locations):
                if self._scale != (1.0, 1.0, 1.0):
                    location = location.scaled(self._scale)
                self._add_patch(key, on_cpu[n], location)

    def get_output(self, key: str | None = None) -> Tensor:
        """The assembled ``(C, I, J, K)`` volume.

        Args:
            key: The output's key when dicts were added; ``None`` for tensors.

        Raises:
            KeyError: Nothing was added under ``key``.
        """
        resolved = _DEFAULT_KEY if key is None else key
        if resolved not in self._outputs:
            available = [k for k in self._outputs if k != _DEFAULT_KEY]
            raise KeyError(f"No output for key {key!r}. Available: {available}")
        return self._outputs[resolved].result()

    def save_output(self, key: str | None = None) -> ScalarImage:
        """Finish the file of an aggregator given ``output_path``; returns it as
        an image not loaded (read it whole, or only regions of it).

        Raises:
            RuntimeError: No ``output_path`` was given.
            KeyError: Nothing was added under ``key``.
        """
        if self._output_path is None:
            raise RuntimeError(
                "save_output needs an aggregator made with output_path=...; "
                "get_output() returns the volume in memory"
            )
        resolved = _DEFAULT_KEY if key is None else key
        output = self._outputs.get(resolved)
        if not isinstance(output, DiskAccumulation):
            available = [k for k in self._outputs if k != _DEFAULT_KEY]
            raise KeyError(f"No output for key {key!r}. Available: {available}")
        return ScalarImage(output.finish())

    # -- accumulating -----------------------------------------------------------------------

    def _new_accumulation(self, key: str, num_channels: int, dtype: torch.dtype) -> Accumulation:
        """The storage of one output: in memory, or the file of ``output_path``."""
        weighted = self.overlap_mode != "crop"
        if self._output_path is None:
            return InMemoryAccumulation(num_channels, self.spatial_shape, dtype, weighted=weighted)
        if isinstance(self._output_path, Mapping):
            if key not in self._output_path:
                raise KeyError(f"output_path has no file for the output {key!r}")
            path = self._output_path[key]
        elif self._outputs:
            raise ValueError(
                "output_path names one file; pass a mapping from key to file for several outputs"
            )
        else:
            path = self._output_path
        return DiskAccumulation(
            path, num_channels, self.spatial_shape, dtype, self._affine, weighted=weighted
        )

    def _add_patch(self, key: str, patch: Tensor, location: PatchLocation) -> None:
        output = self._outputs.get(key)
        if output is None:
            output = self._outputs[key] = self._new_accumulation(key, patch.shape[0], patch.dtype)
        box = location.to_slices()
        if self.overlap_mode == "crop":
            inner, trimmed = self._crop_boxes(location)
            output.place(inner, patch[(slice(None), *trimmed)])
        elif self.overlap_mode == "average":
            output.accumulate(box, patch, 1)
        else:
            window = self._get_hann_window((patch.shape[-3], patch.shape[-2], patch.shape[-1]))
            output.accumulate(box, patch * window, window)

    def _crop_boxes(self, location: PatchLocation) -> tuple[Box, Box]:
        """Where the patch's centre goes in the output, and which part of the patch it is.

        Half the (scaled) overlap is trimmed from each side that is not on the
        volume's border.
        """
        inner: list[slice] = []
        trimmed: list[slice] = []
        for axis in range(3):
            half = round(self.patch_overlap[axis] * self._scale[axis]) // 2
            ini, fin = location.index_ini[axis], location.index_fin[axis]
            low, high = 0, location.size[axis]
            if ini > 0:
                ini, low = ini + half, low + half
            if fin < self.spatial_shape[axis]:
                fin, high = fin - half, high - half
            inner.append(slice(ini, fin))
            trimmed.append(slice(low, high))
        return (inner[0], inner[1], inner[2]), (trimmed[0], trimmed[1], trimmed[2])

    def _get_hann_window(self, patch_size: ThreeInts) -> Tensor:
        window = self._hann_cache.get(patch_size)
        if window is None:
            window = self._hann_cache[patch_size] = hann_window_3d(patch_size)
        return window


def hann_window_3d(patch_size: ThreeInts) -> Tensor:
    """A separable 3D Hann window of ``patch_size``, strictly positive everywhere.

    Each axis uses the inner ``n`` values of a symmetric window of ``n + 2``,
    so no voxel of a patch gets weight zero.
    """
    window = torch.ones(1)
    for axis, size in enumerate(patch_size):
        shape = [1, 1, 1]
        shape[axis] = size
        window = window * torch.hann_window(size + 2, periodic=False)[1:-1].reshape(shape)
    return window
