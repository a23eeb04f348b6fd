"""``Ghosting``: attenuated lines of k-space, which repeat the image along an axis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from ...data.subject import Subject
from ..parameter_range import to_nonneg_range
from ..transform import IntensityTransform, replace_image
from ._kspace import from_kspace, to_kspace


def add_ghosts(
    data: Tensor, num_ghosts: int, axis: int, intensity: float, restore: float
) -> Tensor:
    """Scale every ``size // num_ghosts``-th k-space plane along ``axis`` by ``1 - intensity``.

    ``restore`` keeps that fraction of the centre of k-space untouched.
    """
    if not num_ghosts or intensity == 0:
        return data
    spectrum = to_kspace(data)
    size = spectrum.shape[1 + axis]
    weights = torch.ones(size, device=data.device)
    weights[:: max(size // num_ghosts, 1)] = 1 - intensity
    shape = [1, 1, 1, 1]
    shape[1 + axis] = size
    corrupted = spectrum * weights.reshape(shape)
    if restore > 0:
        middle, half = size // 2, max(int(size * restore / 2), 1)
        centre: list[slice] = [slice(None)] * 4
        centre[1 + axis] = slice(middle - half, middle + half)
        corrupted[tuple(centre)] = spectrum[tuple(centre)]
    return from_kspace(corrupted, data.dtype)


class Ghosting(IntensityTransform):
    """Add ghosts along a random axis, as motion during an MRI acquisition does.

    Args:
        num_ghosts: How many (a value or a range to draw from; at least 1 is drawn).
        axes: The axes one of which is drawn.
        intensity: How much the affected k-space planes are attenuated (a value
            or a range). The default, 0, changes nothing (and warns, as in TorchIO).
        restore: Fraction of the centre of k-space left untouched.
        **kwargs: See :class:`~tioxide.transforms.Transform`.
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True
    _DRAWS_FOR_SKIPPED = False

    def __init__(
        self,
        *,
        num_ghosts: Any = 4,
        axes: Sequence[int] = (0, 1, 2),
        intensity: Any = 0.0,
        restore: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_ghosts = to_nonneg_range(num_ghosts)
        self.axes = tuple(axes)
        if not self.axes or any(a not in (0, 1, 2) for a in self.axes):
            raise ValueError(f"Ghosting axes must be in {{0, 1, 2}}, got {axes!r}")
        self.intensity = to_nonneg_range(intensity)
        self.restore = restore
        self._warn_if_noop(
            is_noop=self.intensity.is_constant(0.0) or self.num_ghosts.is_constant(0.0),
            hint="intensity=(0.5, 1)",
        )

    def make_params(self, subject: Subject) -> dict[str, Any]:
        num_ghosts = max(1, round(self.num_ghosts.sample_1d()))
        axis = self.axes[int(torch.randint(len(self.axes), (1,)).item())]
        return {
            "num_ghosts": num_ghosts,
            "axis": axis,
            "intensity": self.intensity.sample_1d(),
            "restore": self.restore if self.restore is not None else 0.0,
        }

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            ghosted = add_ghosts(
                image.data,
                params["num_ghosts"],
                params["axis"],
                params["intensity"],
                params["restore"],
            )
            replace_image(subject, name, image.new_like(data=ghosted))
        return subject
