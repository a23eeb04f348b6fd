"""``Pad``: add voxels around the volume."""

from __future__ import annotations

from typing import Any

from ...data.subject import Subject
from ..transform import SpatialTransform, replace_image
from . import _ops
from ._padding import PaddingMode, parse_padding_mode, six_ints


class Pad(SpatialTransform):
    """Add a border of voxels; the origin moves so that voxels keep their positions.

    Args:
        padding: ``(i_ini, i_fin, j_ini, j_fin, k_ini, k_fin)``; three values
            ``(i, j, k)`` pad both sides of each axis; one value pads all six.
        padding_mode: ``'constant'``, ``'reflect'``, ``'replicate'``,
            ``'circular'``, or one value of the whole volume: ``'mean'``,
            ``'median'``, ``'minimum'``.
        fill: The value of ``'constant'`` padding.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A wrong number of values, negative values, an unknown mode.
        TypeError: Values that are not integers.
    """

    def __init__(
        self,
        *,
        padding: int | tuple[int, ...],
        padding_mode: PaddingMode = "constant",
        fill: float = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.padding = six_ints(padding, "padding")
        self.padding_mode = parse_padding_mode(padding_mode)
        self.fill = fill

    def make_params(self, subject: Subject) -> dict[str, Any]:
        return {"padding": self.padding, "padding_mode": self.padding_mode, "fill": self.fill}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        padding = six_ints(params["padding"], "padding")
        for name, image in self._get_images(subject).items():
            new = _ops.pad(image, padding, params["padding_mode"], params["fill"])
            replace_image(subject, name, new)
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> Any:
        """Cropping the padding back."""
        from .crop import Crop

        return Crop(cropping=params["padding"], copy=False)
