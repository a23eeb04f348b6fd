"""``Resize``: resample to a number of voxels, keeping the field of view."""

from __future__ import annotations

from typing import Any

import torch

from ...data.affine import AffineMatrix
from ...data.image import LabelMap
from ...data.subject import Subject
from ..transform import SpatialTransform, replace_image

_MODES = ("nearest", "linear")


def _shape(value: object) -> tuple[int, int, int]:
    values = [value] * 3 if isinstance(value, int) else value
    try:
        items = list(values)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"target_shape must be an int or 3 ints, got {value!r}") from None
    valid = all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in items)
    if len(items) != 3 or not valid:
        raise ValueError(f"target_shape must be one or three positive ints, got {value!r}")
    return (items[0], items[1], items[2])


class Resize(SpatialTransform):
    """Resample every image to ``target_shape`` voxels (trilinear, or nearest for labels).

    Corners are aligned, and each axis' spacing is scaled by old/new size, as
    in TorchIO 2. Use :class:`~tioxide.CropOrPad` to change the field of view.

    Args:
        target_shape: One size or three.
        image_interpolation: ``"linear"`` or ``"nearest"`` for scalar images.
        label_interpolation: The same for label maps.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: Non-positive sizes or another interpolation.
    """

    def __init__(
        self,
        target_shape: int | tuple[int, int, int],
        *,
        image_interpolation: str = "linear",
        label_interpolation: str = "nearest",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target_shape = _shape(target_shape)
        for what, mode in (("image", image_interpolation), ("label", label_interpolation)):
            if mode not in _MODES:
                raise ValueError(f"{what}_interpolation must be one of {_MODES}, got {mode!r}")
        self.image_interpolation = image_interpolation
        self.label_interpolation = label_interpolation

    def make_params(self, subject: Subject) -> dict[str, Any]:
        return {"target_shape": self.target_shape}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        target = list(params["target_shape"])
        # As TorchIO: every image is resized (include/exclude are not consulted).
        for name, image in subject.images.items():
            is_label = isinstance(image, LabelMap)
            mode = self.label_interpolation if is_label else self.image_interpolation
            data = image.data
            batch = data.float().unsqueeze(0)
            if mode == "nearest":
                resized = torch.nn.functional.interpolate(batch, size=target, mode="nearest")
            else:
                resized = torch.nn.functional.interpolate(
                    batch, size=target, mode="trilinear", align_corners=True
                )
            matrix = image.affine.data.clone()
            for axis, (old, new) in enumerate(zip(image.spatial_shape, target, strict=True)):
                matrix[:3, axis] *= old / new
            new_image = image.new_like(data=resized[0].to(data.dtype), affine=AffineMatrix(matrix))
            replace_image(subject, name, new_image)
        return subject
