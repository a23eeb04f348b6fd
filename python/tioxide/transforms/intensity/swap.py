"""``Swap``: exchange random pairs of patches (self-supervised pretext task)."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor

from ...data.image import LabelMap
from ...data.subject import Subject
from ..parameter_range import to_nonneg_range
from ..transform import IntensityTransform, first_image, replace_image

Origin = tuple[int, int, int]


def _random_origin(highest: list[int]) -> Origin:
    # One draw per axis that has room (none for an axis the patch fills), as in TorchIO.
    coordinates = [int(torch.randint(m + 1, (1,)).item()) if m else 0 for m in highest]
    return (coordinates[0], coordinates[1], coordinates[2])


def _overlap(a: Origin, b: Origin, size: tuple[int, int, int]) -> bool:
    return all(not (x + p <= y or y + p <= x) for x, y, p in zip(a, b, size, strict=True))


def swap_locations(
    shape: tuple[int, ...], size: tuple[int, int, int], count: int
) -> list[tuple[Origin, Origin]]:
    """``count`` pairs of patch origins; the second is redrawn (up to 100 times) until disjoint.

    Raises:
        ValueError: The patch is larger than the image.
    """
    highest = [s - p for s, p in zip(shape, size, strict=True)]
    if any(m < 0 for m in highest):
        raise ValueError(f"Patch size {size} cannot be larger than spatial shape {tuple(shape)}")
    pairs = []
    for _ in range(count):
        first = _random_origin(highest)
        for _ in range(100):
            second = _random_origin(highest)
            if not _overlap(first, second, size):
                break
        pairs.append((first, second))
    return pairs


def apply_swaps(
    data: Tensor, pairs: list[tuple[Origin, Origin]], size: tuple[int, int, int]
) -> Tensor:
    """A copy of ``(C, I, J, K)`` ``data`` with each pair of patches exchanged, in order."""
    result = data.clone()
    for a, b in pairs:
        first = (slice(None), *(slice(o, o + p) for o, p in zip(a, size, strict=True)))
        second = (slice(None), *(slice(o, o + p) for o, p in zip(b, size, strict=True)))
        patch = result[first].clone()
        result[first] = result[second].clone()
        result[second] = patch
    return result


class Swap(IntensityTransform):
    """Exchange ``num_iterations`` random pairs of patches of ``patch_size`` voxels.

    Args:
        patch_size: One size or three.
        num_iterations: How many pairs (a value or a range to draw from).
        **kwargs: See :class:`~tioxide.transforms.Transform`.
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True
    _DRAWS_FOR_SKIPPED = False

    def __init__(
        self,
        *,
        patch_size: int | tuple[int, int, int] = 15,
        num_iterations: Any = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(patch_size, int):
            patch_size = (patch_size, patch_size, patch_size)
        self.patch_size = tuple(patch_size)
        self.num_iterations = to_nonneg_range(num_iterations)

    def make_params(self, subject: Subject) -> dict[str, Any]:
        if any(isinstance(image, LabelMap) for image in subject.images.values()):
            warnings.warn(
                "Swap is applied to a subject containing LabelMap images. The spatial"
                " rearrangement will make labels inconsistent with the swapped image. This"
                " transform is intended for self-supervised learning.",
                stacklevel=3,
            )
        shape = first_image(subject, self).spatial_shape
        count = max(1, round(self.num_iterations.sample_1d()))
        size = (self.patch_size[0], self.patch_size[1], self.patch_size[2])
        return {"locations": swap_locations(shape, size, count)}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        size = (self.patch_size[0], self.patch_size[1], self.patch_size[2])
        for name, image in self._get_images(subject).items():
            swapped = apply_swaps(image.data, params["locations"], size)
            replace_image(subject, name, image.new_like(data=swapped))
        return subject
