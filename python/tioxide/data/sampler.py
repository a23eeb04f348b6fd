"""Patch samplers: where to cut patches from a subject, and cutting them.

Random samplers draw from torch's global generator with the same calls, in
the same order, as TorchIO 2.0.0a2 (``torch.randint`` per axis for uniform
sampling, one ``torch.multinomial`` per patch for weighted sampling: the
same draw and generator state, computed without one logarithm per voxel, see
``_draw``), so a ``torch.manual_seed`` gives the same locations in both.

On a subject whose images are not loaded, only the patches are read from the
files; weighted samplers read their probability (or label) image whole, once.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, IterableDataset

from ._draw import WeightedDraws
from ._patching import cut_patch, load_unsliceable, shallow_copy
from .patch import PatchLocation, ThreeInts
from .subject import Subject

if TYPE_CHECKING:
    from ..transforms.spatial._padding import PaddingMode


def _three(value: int | ThreeInts, what: str) -> ThreeInts:
    """``value`` as three ints (numpy integers accepted)."""
    try:
        if not isinstance(value, Sequence):
            n = operator.index(value)
            return (n, n, n)
        if len(value) == 3:
            i, j, k = (operator.index(v) for v in value)
            return (i, j, k)
    except TypeError:
        pass
    raise ValueError(f"{what} must be an int or a sequence of three ints, got {value!r}")


class PatchSampler:
    """Base of the patch samplers.

    Args:
        patch_size: Spatial shape of the patches; one int is used for all axes.
    """

    def __init__(self, patch_size: int | ThreeInts) -> None:
        self.patch_size: ThreeInts = _three(patch_size, "patch_size")

    def __call__(self, subject: Subject, num_patches: int | None = None) -> Iterator[Subject]:
        """Yield patches of ``subject`` (``num_patches`` of them, or until exhausted).

        Subclasses implement this.

        Raises:
            NotImplementedError: Always, here.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def _extract_patch(self, subject: Subject, location: PatchLocation) -> Subject:
        """The patch of ``subject`` at ``location``, as a new subject."""
        return cut_patch(subject, location)


class GridSampler(PatchSampler, Dataset[Subject]):
    """Patches on a regular grid covering the whole volume, for dense inference.

    A map-style dataset: ``len`` is the number of patches and ``sampler[n]``
    the n-th one. Along each axis patches start every ``patch - overlap``
    voxels, and a last patch is added flush with the end of the volume when
    the steps do not reach it. Patches larger than the volume are cut to it.

    Args:
        subject: The subject to cut; an unloaded one is read patch by patch.
        patch_size: Spatial shape of the patches.
        patch_overlap: Voxels shared by neighbouring patches (even values
            split evenly in ``'crop'`` aggregation).
        padding_mode: If set, pad the volume first by ``overlap // 2`` on each
            side, in this mode (see :class:`tioxide.Pad`).
        fill: Value of the padding in ``'constant'`` mode.

    Examples:
        >>> import torch, tioxide as tio
        >>> subject = tio.Subject(t1=tio.ScalarImage(torch.rand(1, 10, 10, 10)))
        >>> sampler = tio.GridSampler(subject, patch_size=6, patch_overlap=2)
        >>> len(sampler), sampler[1].patch_location.index
        (8, (0, 0, 4))
    """

    def __init__(
        self,
        subject: Subject,
        patch_size: int | ThreeInts,
        patch_overlap: int | ThreeInts = 0,
        padding_mode: PaddingMode | None = None,
        fill: float = 0,
    ) -> None:
        super().__init__(patch_size)
        self.patch_overlap: ThreeInts = _three(patch_overlap, "patch_overlap")
        self.padding_mode = padding_mode
        self.fill = fill
        self.subject = self._maybe_pad(subject)
        self.locations = self._compute_locations(self.subject.spatial_shape)

    def __len__(self) -> int:
        return len(self.locations)

    def __getitem__(self, index: int) -> Subject:
        return self._extract_patch(self.subject, self.locations[index])

    def __call__(self, subject: Subject, num_patches: int | None = None) -> Iterator[Subject]:
        """Yield the grid's patches of ``subject`` (the first ``num_patches`` if given)."""
        padded = self._maybe_pad(subject)
        locations = self._compute_locations(padded.spatial_shape)
        for location in locations[:num_patches]:
            yield self._extract_patch(padded, location)

    def _maybe_pad(self, subject: Subject) -> Subject:
        if self.padding_mode is None:
            return subject
        from ..transforms.spatial.pad import Pad

        i, j, k = (overlap // 2 for overlap in self.patch_overlap)
        pad = Pad(padding=(i, i, j, j, k, k), padding_mode=self.padding_mode, fill=self.fill)
        # Pad in place on a shallow copy: the caller's subject keeps its images and
        # loaded volumes are not copied first.
        pad.copy = False
        padded: Subject = pad(shallow_copy(subject))
        load_unsliceable(padded)
        return padded

    def _compute_locations(self, spatial_shape: ThreeInts) -> list[PatchLocation]:
        starts = [
            _grid_starts(size, patch, overlap)
            for size, patch, overlap in zip(
                spatial_shape, self.patch_size, self.patch_overlap, strict=True
            )
        ]
        return [
            PatchLocation(index=(i, j, k), size=self.patch_size)
            for i in starts[0]
            for j in starts[1]
            for k in starts[2]
        ]


def _grid_starts(size: int, patch: int, overlap: int) -> list[int]:
    """First voxels of the patches along one axis; the last one ends at the volume's end."""
    step = max(patch - overlap, 1)
    starts = list(range(0, size - patch + 1, step))
    if not starts or starts[-1] != size - patch:
        starts.append(max(size - patch, 0))
    return starts


class UniformSampler(PatchSampler, IterableDataset[Subject]):
    """Random patches, every position in the volume equally likely.

    Iterating yields ``num_patches`` patches of ``subject`` (forever if
    ``None``); calling it with another subject, as :class:`Queue` does,
    samples that one instead.

    Args:
        subject: The subject iterating samples from.
        patch_size: Spatial shape of the patches.
        num_patches: Patches per iteration, or ``None`` for no end.
    """

    def __init__(
        self, subject: Subject, patch_size: int | ThreeInts, num_patches: int | None = None
    ) -> None:
        super().__init__(patch_size)
        self.subject = subject
        self.num_patches = num_patches

    def __call__(self, subject: Subject, num_patches: int | None = None) -> Iterator[Subject]:
        """Yield random patches of ``subject``."""
        # As in TorchIO, 0 also means "use the sampler's own num_patches".
        limit = num_patches or self.num_patches
        count = 0
        while limit is None or count < limit:
            index = self._random_index(subject.spatial_shape)
            yield self._extract_patch(subject, PatchLocation(index=index, size=self.patch_size))
            count += 1

    def __iter__(self) -> Iterator[Subject]:
        return self(self.subject, self.num_patches)

    def _random_index(self, spatial_shape: ThreeInts) -> ThreeInts:
        # One randint per axis, i then j then k: the draws TorchIO makes.
        i, j, k = (
            int(torch.randint(0, max(size - patch, 0) + 1, (1,)).item())
            for size, patch in zip(spatial_shape, self.patch_size, strict=True)
        )
        return (i, j, k)


class WeightedSampler(PatchSampler, IterableDataset[Subject]):
    """Random patches whose centres follow a probability map.

    The map is an image of the subject (read whole, once per subject). Voxels
    closer to the border than half a patch get probability zero; the chosen
    centre's patch is then cut. The other images are read patch by patch.

    Args:
        subject: The subject iterating samples from.
        patch_size: Spatial shape of the patches.
        probability_map: Name of the subject's image holding the weights.
        num_patches: Patches per iteration, or ``None`` for no end.

    Raises:
        RuntimeError: (when iterated) no voxel that can centre a patch has a
            non-zero weight.
    """

    def __init__(
        self,
        subject: Subject,
        patch_size: int | ThreeInts,
        probability_map: str,
        num_patches: int | None = None,
    ) -> None:
        super().__init__(patch_size)
        self.subject = subject
        self.probability_map = probability_map
        self.num_patches = num_patches

    def __call__(self, subject: Subject, num_patches: int | None = None) -> Iterator[Subject]:
        """Yield patches of ``subject`` centred on voxels drawn from the map."""
        probabilities = self._build_probability_map_for(subject)
        if probabilities.sum() == 0:
            raise RuntimeError(
                f"Probability map '{self.probability_map}' is all zeros where a patch of size"
                f" {self.patch_size} can be centred in a volume of shape {subject.spatial_shape}"
            )
        shape = tuple(probabilities.shape)
        limit = num_patches or self.num_patches
        count = 0
        draws = WeightedDraws(probabilities)
        while limit is None or count < limit:
            drawn = draws.draw()
            ci, cj, ck = (int(v) for v in np.unravel_index(drawn, shape))
            index = _center_to_corner((ci, cj, ck), subject.spatial_shape, self.patch_size)
            yield self._extract_patch(subject, PatchLocation(index=index, size=self.patch_size))
            count += 1

    def __iter__(self) -> Iterator[Subject]:
        return self(self.subject, self.num_patches)

    def _build_probability_map_for(self, subject: Subject) -> Tensor:
        weights = subject.images[self.probability_map].data[0].float()
        return _mask_borders(weights, subject.spatial_shape, self.patch_size)

    def _build_probability_map(self) -> Tensor:
        return self._build_probability_map_for(self.subject)


class LabelSampler(WeightedSampler):
    """Random patches centred on labelled voxels.

    Args:
        subject: The subject iterating samples from.
        patch_size: Spatial shape of the patches.
        label_name: Name of the subject's label map.
        label_probabilities: Weight of each label value; ``None`` gives every
            non-zero label the weight 1 and the background 0.
        num_patches: Patches per iteration, or ``None`` for no end.
    """

    def __init__(
        self,
        subject: Subject,
        patch_size: int | ThreeInts,
        label_name: str,
        label_probabilities: dict[int, float] | None = None,
        num_patches: int | None = None,
    ) -> None:
        super().__init__(subject, patch_size, probability_map=label_name, num_patches=num_patches)
        self.label_name = label_name
        self.label_probabilities = label_probabilities

    def _build_probability_map_for(self, subject: Subject) -> Tensor:
        labels = subject.images[self.label_name].data[0]
        if self.label_probabilities is None:
            weights = (labels > 0).float()
        else:
            weights = torch.zeros_like(labels, dtype=torch.float32)
            for label, weight in self.label_probabilities.items():
                weights[labels == label] = weight
        return _mask_borders(weights, subject.spatial_shape, self.patch_size)


def _mask_borders(weights: Tensor, spatial_shape: ThreeInts, patch_size: ThreeInts) -> Tensor:
    """A copy of ``weights`` with zeros where a patch centre would put the patch outside."""
    masked = weights.clone()
    for axis, (size, patch) in enumerate(zip(spatial_shape, patch_size, strict=True)):
        half = patch // 2
        if half == 0:
            continue
        low: list[slice] = [slice(None)] * 3
        low[axis] = slice(0, half)
        masked[tuple(low)] = 0
        high: list[slice] = [slice(None)] * 3
        high[axis] = slice(size - half, None)
        masked[tuple(high)] = 0
    return masked


def _center_to_corner(
    center: ThreeInts, spatial_shape: ThreeInts, patch_size: ThreeInts
) -> ThreeInts:
    """The first voxel of the patch centred on ``center``, kept inside the volume."""
    i, j, k = (
        min(max(0, c - patch // 2), size - patch)
        for c, size, patch in zip(center, spatial_shape, patch_size, strict=True)
    )
    return (i, j, k)
