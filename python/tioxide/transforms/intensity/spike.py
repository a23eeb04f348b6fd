"""``Spike``: bright points in k-space, which stripe the image (a scanner artefact)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...data.subject import Subject
from ..parameter_range import to_nonneg_range, to_range
from ..transform import IntensityTransform, replace_image
from ._kspace import from_kspace, to_kspace


def add_spikes(data: Tensor, positions: list[list[float]], intensity: float) -> Tensor:
    """Add ``intensity`` times the spectrum's peak at each relative position in k-space."""
    if intensity == 0 or not positions:
        return data
    spectrum = to_kspace(data)
    peak = spectrum.abs().amax(dim=(-3, -2, -1))
    shape = spectrum.shape[1:]
    for position in positions:
        i, j, k = (int(p * s) % s for p, s in zip(position, shape, strict=True))
        spectrum[:, i, j, k] += peak * intensity
    return from_kspace(spectrum, data.dtype)


class Spike(IntensityTransform):
    """Add spikes to k-space: the image gets stripes.

    Args:
        num_spikes: How many (a value or a range to draw from; at least 1 is drawn).
        intensity: Their strength relative to the spectrum's peak (a value or a
            range). The default, 0, changes nothing (and warns, as in TorchIO).
        **kwargs: See :class:`~tioxide.transforms.Transform`.
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True
    _DRAWS_FOR_SKIPPED = False

    def __init__(self, *, num_spikes: Any = 1, intensity: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_spikes = to_nonneg_range(num_spikes)
        self.intensity = to_range(intensity)
        self._warn_if_noop(
            is_noop=self.intensity.is_constant(0.0) or self.num_spikes.is_constant(0.0),
            hint="intensity=(1, 3)",
        )

    def make_params(self, subject: Subject) -> dict[str, Any]:
        count = max(1, round(self.num_spikes.sample_1d()))
        positions = torch.rand(count, 3).tolist()
        return {"positions": positions, "intensity": self.intensity.sample_1d()}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            spiked = add_spikes(image.data, params["positions"], params["intensity"])
            replace_image(subject, name, image.new_like(data=spiked))
        return subject
