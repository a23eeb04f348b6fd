"""``Anisotropy``: simulate a thick-slice acquisition along one axis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from ...data.image import LabelMap
from ...data.subject import Subject
from ..parameter_range import to_nonneg_range
from ..transform import Transform, replace_image


def simulate_anisotropy(data: Tensor, axis: int, factor: float, mode: str) -> Tensor:
    """Downsample ``axis`` by ``factor`` (nearest), then upsample back (``mode``)."""
    shape = list(data.shape[1:])
    low = list(shape)
    low[axis] = max(1, round(shape[axis] / factor))
    batch = data.float().unsqueeze(0)
    down = torch.nn.functional.interpolate(batch, size=low, mode="nearest")
    if mode == "nearest":
        up = torch.nn.functional.interpolate(down, size=shape, mode="nearest")
    else:
        up = torch.nn.functional.interpolate(down, size=shape, mode="trilinear", align_corners=True)
    return up[0].to(data.dtype)


class Anisotropy(Transform):
    """Lower the resolution along one random axis, keeping the shape (thick slices).

    Label maps are degraded with nearest-neighbour interpolation.

    Args:
        axes: The axes one of which is drawn.
        downsampling: The factor (a value, or a range to draw from; at least 1).
        image_interpolation: ``"linear"`` or ``"nearest"`` for scalar images.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A downsampling range below 1, axes outside 0-2, or another mode.
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True
    _DRAWS_FOR_SKIPPED = False

    def __init__(
        self,
        *,
        axes: Sequence[int] = (0, 1, 2),
        downsampling: Any = 1.0,
        image_interpolation: str = "linear",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.axes = tuple(axes)
        if not self.axes or any(a not in (0, 1, 2) for a in self.axes):
            raise ValueError(f"Anisotropy axes must be in {{0, 1, 2}}, got {axes!r}")
        self.downsampling = to_nonneg_range(downsampling)
        high = self.downsampling._ranges[0][1]
        if high < 1.0:
            raise ValueError(f"downsampling range upper bound must be >= 1, got {high}")
        if image_interpolation not in ("linear", "nearest"):
            raise ValueError(
                f"image_interpolation must be 'linear' or 'nearest', got {image_interpolation!r}"
            )
        self.image_interpolation = image_interpolation
        self._warn_if_noop(is_noop=self.downsampling.is_constant(1.0), hint="downsampling=(1.5, 5)")

    def make_params(self, subject: Subject) -> dict[str, Any]:
        axis = self.axes[int(torch.randint(len(self.axes), (1,)).item())]
        return {"axis": axis, "factor": max(1.0, self.downsampling.sample_1d())}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        if params["factor"] <= 1.0:
            return subject
        # As TorchIO: every image (include/exclude are not consulted).
        for name, image in subject.images.items():
            mode = "nearest" if isinstance(image, LabelMap) else self.image_interpolation
            degraded = simulate_anisotropy(image.data, params["axis"], params["factor"], mode)
            replace_image(subject, name, image.new_like(data=degraded))
        return subject
