"""``EnsureShapeMultiple``: crop or pad so that each spatial size is a multiple of a number."""

from __future__ import annotations

import math
from typing import Any

from ...data.subject import Subject
from ..transform import SpatialTransform, first_image
from ._padding import PaddingMode, parse_padding_mode
from .crop_or_pad import CropOrPad


def _parse_multiple(value: object) -> tuple[int, int, int]:
    values = [value] * 3 if isinstance(value, int) else value
    try:
        items = list(values)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"target_multiple must be an int or 3 ints, got {value!r}") from None
    if len(items) != 3:
        raise ValueError(f"target_multiple must have 1 or 3 values, got {len(items)}")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"target_multiple values must be integers, got {value!r}")
        if v < 1:
            raise ValueError(f"target_multiple values must be >= 1, got {value!r}")
    return (items[0], items[1], items[2])


def multiple_shape(
    shape: tuple[int, int, int], multiple: tuple[int, int, int], method: str
) -> tuple[int, int, int]:
    """The nearest multiples above (``pad``) or below (``crop``) the sizes, at least 1."""
    rounding = math.ceil if method == "pad" else math.floor
    result = [max(rounding(s / m) * m, 1) for s, m in zip(shape, multiple, strict=True)]
    return (result[0], result[1], result[2])


class EnsureShapeMultiple(SpatialTransform):
    """Crop or pad so that every spatial size is a multiple of ``target_multiple``.

    Useful for networks that halve the resolution several times (U-Nets).

    Args:
        target_multiple: One number for all axes, or three.
        method: ``"pad"`` (up to the next multiple) or ``"crop"`` (down).
        padding_mode: See :class:`~tioxide.Pad`.
        fill: The value of ``'constant'`` padding.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A multiple below 1, or another method.
    """

    def __init__(
        self,
        target_multiple: int | tuple[int, int, int],
        *,
        method: str = "pad",
        padding_mode: PaddingMode = "constant",
        fill: float = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target_multiple = _parse_multiple(target_multiple)
        if method not in ("crop", "pad"):
            raise ValueError(f"method must be 'crop' or 'pad', got {method!r}")
        self.method = method
        self.padding_mode = parse_padding_mode(padding_mode)
        self.fill = fill

    def _crop_or_pad(self, shape: tuple[int, int, int]) -> CropOrPad:
        return CropOrPad(
            multiple_shape(shape, self.target_multiple, self.method),
            padding_mode=self.padding_mode,
            fill=self.fill,
            only_crop=self.method == "crop",
            only_pad=self.method == "pad",
            p=self.p,
            copy=False,
            include=self.include,
            exclude=self.exclude,
        )

    def _apply_to_subject(self, subject: Subject, *, batched: bool) -> Subject:
        if batched:
            return super()._apply_to_subject(subject, batched=True)
        # On a subject or image TorchIO 2 hands over to CropOrPad: its records, not ours.
        crop_or_pad = self._crop_or_pad(subject.spatial_shape)
        return crop_or_pad._apply_to_subject(subject, batched=False)

    def make_params(self, subject: Subject) -> dict[str, Any]:
        shape = first_image(subject, self).spatial_shape
        return {"target_shape": multiple_shape(shape, self.target_multiple, self.method)}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        crop_or_pad = self._crop_or_pad(params["target_shape"])
        return crop_or_pad.apply_transform(subject, crop_or_pad.make_params(subject))
