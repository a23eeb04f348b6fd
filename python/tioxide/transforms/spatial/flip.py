"""``Flip``: reverse the voxel order along spatial axes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ...data.batch import SubjectsBatch
from ...data.subject import Subject
from ..transform import SpatialTransform, replace_image
from . import _ops

# The anatomical letter pairs: a label names the axis whose orientation code is in its pair.
_PAIRS = {"L": "LR", "R": "LR", "A": "AP", "P": "AP", "I": "IS", "S": "IS"}


def resolve_axes(
    axes: int | str | Sequence[int | str], orientation: tuple[str, str, str] | None
) -> tuple[int, ...]:
    """Spatial axes ``0``-``2`` from ints and anatomical labels (first letter), sorted.

    Raises:
        ValueError: An int outside ``{0, 1, 2}``, an unknown label, or a label
            without an orientation to resolve it.
        TypeError: An axis that is neither an int nor a string.
    """
    items = (axes,) if isinstance(axes, int | str) else tuple(axes)
    resolved: set[int] = set()
    for axis in items:
        if isinstance(axis, bool) or not isinstance(axis, int | str):
            raise TypeError(f"Axis must be int or str, got {type(axis).__name__}")
        if isinstance(axis, int):
            if axis not in (0, 1, 2):
                raise ValueError(f"Axis must be 0, 1, or 2; got {axis}")
            resolved.add(axis)
            continue
        pair = _PAIRS.get(axis[:1].upper())
        if pair is None:
            raise ValueError(
                f"Unknown anatomical label {axis!r}. Use L, R, A, P, I, S or full names"
                " like 'Left', 'Right', etc."
            )
        if orientation is None:
            raise ValueError(
                f"Cannot resolve anatomical axis label {axis!r} without image orientation"
            )
        resolved.update(n for n, code in enumerate(orientation) if code in pair)
    return tuple(sorted(resolved))


class Flip(SpatialTransform):
    """Reverse the order of the voxels along some spatial axes (the affine is kept).

    Args:
        axes: Axes that may be flipped: ints in ``{0, 1, 2}`` or anatomical
            labels (``'L'``, ``'Right'``, ``'AP'`` ...; the first letter is
            used), resolved with the first image's orientation.
        flip_probability: Probability that each of the axes is flipped.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: ``flip_probability`` outside ``[0, 1]`` (bad axes are
            reported when the transform is applied, as in TorchIO).
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True
    _DRAWS_FOR_SKIPPED = False

    def __init__(
        self,
        *,
        axes: int | str | Sequence[int | str] = 0,
        flip_probability: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not 0 <= flip_probability <= 1:
            raise ValueError(f"flip_probability must be in [0, 1], got {flip_probability}")
        self.axes = axes
        self.flip_probability = flip_probability

    def _samples_per_element(self, batch: SubjectsBatch) -> bool:
        # As TorchIO's: with no image to flip, one shared no-op ({"axes": ()}).
        given: Any = batch  # _get_images takes batches too (for TorchIO's contract)
        return bool(self._get_images(given))

    def make_params(self, subject: Subject) -> dict[str, Any]:
        images = self._get_images(subject)
        if not images:
            return {"axes": ()}
        orientation = next(iter(images.values())).orientation
        candidates = resolve_axes(self.axes, orientation)
        coins = torch.rand(3) < self.flip_probability
        return {"axes": tuple(a for a in candidates if bool(coins[a]))}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        axes = tuple(params["axes"])
        if axes:
            for name, image in self._get_images(subject).items():
                replace_image(subject, name, _ops.flip(image, axes))
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> Flip:
        """A flip is its own inverse."""
        return Flip(axes=tuple(params["axes"]), copy=False)
