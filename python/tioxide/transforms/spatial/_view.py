"""``RegionView``: crops, flips, axis permutations and constant pads of an unread image.

A chain of these operations on a backend (a file not yet read) reduces to one
form: a box of the source read with step +1 or -1 per axis, its axes permuted,
then padded with one constant. The view keeps that form, so such a chain costs
one region read of just the kept voxels when the data is needed. Padding that
does not fit the form (another fill value, or a mode that depends on the data
such as ``reflect`` or ``mean``) and every operation after it are kept as
steps to run on the region once read: still one read, nothing read before.

Each output spatial axis ``a`` shows source axis ``axes[a].source``: ``pad_ini``
fill voxels, then ``size`` source voxels ``start, start + step, ...``, then
``pad_fin`` fill voxels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, TypeAlias

import numpy as np
import torch
from torch import Tensor

from ...data.backends import ImageDataBackend
from ...data.indexing import normalize_index
from ...data.nifti_backend import NiftiBackend
from ._padding import pad_tensor

#: An operation run on the tensor after the read: ("crop", bounds), ("flip", axes),
#: ("permute", order) or ("pad", padding, mode, fill). Plain data, so views pickle.
Step: TypeAlias = tuple[Any, ...]


@dataclass(frozen=True)
class ViewAxis:
    """How one output spatial axis is made from one source axis (see the module doc)."""

    source: int
    start: int
    size: int
    step: int
    pad_ini: int = 0
    pad_fin: int = 0

    @property
    def length(self) -> int:
        return self.pad_ini + self.size + self.pad_fin

    def select(self, low: int, high: int) -> ViewAxis:
        """Keep output voxels ``low:high`` (``0 <= low``, ``high <= length``)."""
        high = max(high, low)
        region_end = self.pad_ini + self.size
        pad_ini = max(0, min(high, self.pad_ini) - low)
        first = min(max(low, self.pad_ini), region_end) - self.pad_ini
        last = max(min(high, region_end), self.pad_ini) - self.pad_ini
        size = max(0, last - first)
        pad_fin = max(0, high - max(low, region_end))
        return replace(
            self, start=self.start + first * self.step, size=size, pad_ini=pad_ini, pad_fin=pad_fin
        )

    def flipped(self) -> ViewAxis:
        start = self.start + (self.size - 1) * self.step if self.size else self.start
        return replace(
            self, start=start, step=-self.step, pad_ini=self.pad_fin, pad_fin=self.pad_ini
        )

    def source_slice(self) -> slice:
        """The ascending source slice holding this axis' voxels."""
        if self.step > 0:
            return slice(self.start, self.start + self.size)
        return slice(self.start - self.size + 1, self.start + 1)


def _backwards(ascending: slice) -> slice:
    """``ascending`` (a ``start:stop`` slice) read from its end to its start."""
    start, stop = ascending.start, ascending.stop
    if start >= stop:
        return ascending
    return slice(stop - 1, start - 1 if start > 0 else None, -1)


class RegionView:
    """A lazy crop/flip/permute/pad of a backend; a backend itself.

    Args:
        source: The backend read (only the region the view needs).
        axes: One :class:`ViewAxis` per spatial axis of the region as read.
        fill: The value of padded voxels of ``axes``.
        affine: The affine of the view (the image's, after the operations).
        later: Steps to run on the tensor after the read, in order.
    """

    __slots__ = ("_affine", "_axes", "_fill", "_later", "_source")

    def __init__(
        self,
        source: ImageDataBackend,
        axes: tuple[ViewAxis, ViewAxis, ViewAxis],
        fill: float,
        affine: Tensor,
        later: tuple[Step, ...] = (),
    ) -> None:
        self._source = source
        self._axes = axes
        self._fill = fill
        self._affine = affine
        self._later = later

    @classmethod
    def of(cls, backend: ImageDataBackend, affine: Tensor) -> RegionView:
        """The identity view of ``backend`` (views are not nested: they compose)."""
        if isinstance(backend, RegionView):
            return cls(backend._source, backend._axes, backend._fill, affine, backend._later)
        _, *sizes = backend.shape
        axes = tuple(ViewAxis(source=n, start=0, size=s, step=1) for n, s in enumerate(sizes))
        return cls(backend, (axes[0], axes[1], axes[2]), 0.0, affine)

    # -- the backend protocol ---------------------------------------------------------

    @property
    def source(self) -> ImageDataBackend:
        """The backend the view reads."""
        return self._source

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, I, J, K)`` of the view."""
        spatial = [axis.length for axis in self._axes]
        for step in self._later:
            spatial = _step_shape(step, spatial)
        return (self._source.shape[0], spatial[0], spatial[1], spatial[2])

    @property
    def affine(self) -> Tensor:
        """The affine of the view."""
        return self._affine

    @property
    def dtype(self) -> np.dtype[Any]:
        """The source's stored dtype."""
        return self._source.dtype

    def to_tensor(self) -> Tensor:
        """Read the region once and make the view of it (a new tensor)."""
        by_source = {axis.source: axis for axis in self._axes}
        # The Rust reader takes negative steps and reverses rows as it copies
        # them (torch.flip would copy the region again, and slowly).
        reads_backwards = isinstance(self._source, NiftiBackend)
        region = tuple(
            _backwards(by_source[n].source_slice())
            if reads_backwards and by_source[n].step < 0
            else by_source[n].source_slice()
            for n in range(3)
        )
        data = self._source[(slice(None), *region)]
        flips = [1 + axis.source for axis in self._axes if axis.step < 0]
        if flips and not reads_backwards:
            data = torch.flip(data, flips)
        order = [axis.source for axis in self._axes]
        if order != [0, 1, 2]:
            data = data.permute(0, *(1 + n for n in order))
        padding = [
            amount for axis in reversed(self._axes) for amount in (axis.pad_ini, axis.pad_fin)
        ]
        if any(padding):
            data = torch.nn.functional.pad(data, padding, mode="constant", value=self._fill)
        for step in self._later:
            data = _run_step(step, data)
        return data

    def __getitem__(self, item: object) -> Tensor:
        """A region of the view, reading only the voxels the slices span.

        Any step is accepted: the span is cropped (and reversed for negative
        steps) in the view, then every ``|step|``-th voxel is kept.
        """
        c, *spatial = normalize_index(item)
        _, *lengths = self.shape
        bounds: list[tuple[int, int]] = []
        reversed_axes: list[int] = []
        strides: list[slice] = []
        for axis, (index, length) in enumerate(zip(spatial, lengths, strict=True)):
            picked = range(*index.indices(length))
            if len(picked) == 0:
                bounds.append((0, 0))
            elif picked.step > 0:
                bounds.append((picked[0], picked[-1] + 1))
            else:
                bounds.append((picked[-1], picked[0] + 1))
                reversed_axes.append(axis)
            strides.append(slice(None, None, abs(picked.step)))
        view = self.cropped(bounds, self._affine)
        if reversed_axes:
            view = view.flipped(tuple(reversed_axes), self._affine)
        return view.to_tensor()[(c, *strides)]

    # -- operations ----------------------------------------------------------------------

    def _with(self, axes: Any, affine: Tensor, fill: float | None = None) -> RegionView:
        return RegionView(
            self._source,
            (axes[0], axes[1], axes[2]),
            self._fill if fill is None else fill,
            affine,
            self._later,
        )

    def _then(self, step: Step, affine: Tensor) -> RegionView:
        return RegionView(self._source, self._axes, self._fill, affine, (*self._later, step))

    def cropped(self, bounds: list[tuple[int, int]], affine: Tensor) -> RegionView:
        """Keep ``low:high`` of each axis (bounds already clipped to the shape)."""
        if self._later:
            return self._then(("crop", tuple(bounds)), affine)
        return self._with(
            [a.select(lo, hi) for a, (lo, hi) in zip(self._axes, bounds, strict=True)], affine
        )

    def flipped(self, axes: tuple[int, ...], affine: Tensor) -> RegionView:
        """Reverse the given axes."""
        if self._later:
            return self._then(("flip", tuple(axes)), affine)
        return self._with(
            [a.flipped() if n in axes else a for n, a in enumerate(self._axes)], affine
        )

    def permuted(self, order: tuple[int, int, int], affine: Tensor) -> RegionView:
        """Axis ``n`` becomes the current axis ``order[n]``."""
        if self._later:
            return self._then(("permute", tuple(order)), affine)
        return self._with([self._axes[n] for n in order], affine)

    def padded(
        self, padding: tuple[int, ...], mode: str, fill: float, affine: Tensor
    ) -> RegionView:
        """Add padding ``(i_ini, i_fin, j_ini, j_fin, k_ini, k_fin)`` in ``mode``."""
        already_padded = any(a.pad_ini or a.pad_fin for a in self._axes)
        foldable = mode == "constant" and not (already_padded and fill != self._fill)
        if self._later or not foldable:
            return self._then(("pad", tuple(padding), mode, fill), affine)
        axes = [
            replace(a, pad_ini=a.pad_ini + padding[2 * n], pad_fin=a.pad_fin + padding[2 * n + 1])
            for n, a in enumerate(self._axes)
        ]
        return self._with(axes, affine, fill)

    def __copy__(self) -> RegionView:
        return RegionView(self._source, self._axes, self._fill, self._affine, self._later)

    def __repr__(self) -> str:
        return f"RegionView({self._source!r}, shape={self.shape})"


def _step_shape(step: Step, spatial: list[int]) -> list[int]:
    kind = step[0]
    if kind == "crop":
        return [hi - lo for lo, hi in step[1]]
    if kind == "permute":
        return [spatial[n] for n in step[1]]
    if kind == "pad":
        padding = step[1]
        return [size + padding[2 * n] + padding[2 * n + 1] for n, size in enumerate(spatial)]
    return spatial


def _run_step(step: Step, data: Tensor) -> Tensor:
    kind = step[0]
    if kind == "crop":
        return data[(slice(None), *(slice(lo, hi) for lo, hi in step[1]))]
    if kind == "flip":
        return torch.flip(data, [1 + a for a in step[1]])
    if kind == "permute":
        return data.permute(0, *(1 + n for n in step[1]))
    _, padding, mode, fill = step
    return pad_tensor(data, padding, mode, fill)
