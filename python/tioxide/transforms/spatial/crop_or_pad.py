"""``CropOrPad``: crop and/or pad every image to a target spatial shape."""

from __future__ import annotations

import math
from typing import Any, Literal

import torch

from ...data.subject import Subject
from ...logging import logger
from ..transform import SpatialTransform, first_image, replace_image
from . import _ops
from ._padding import PaddingMode, parse_padding_mode

Units = Literal["voxels", "mm", "cm"]
Location = Literal["center", "random"]
Six = tuple[int, int, int, int, int, int]
Target = tuple[float | None, float | None, float | None]


def _parse_target(target_shape: object) -> Target:
    if isinstance(target_shape, int | float) and not isinstance(target_shape, bool):
        value = float(target_shape)
        return (value, value, value)
    try:
        values = list(target_shape)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"target_shape must be a number or 3 numbers (None keeps an axis), got {target_shape!r}"
        ) from None
    if len(values) != 3:
        raise ValueError(f"target_shape must have 1 or 3 values, got {len(values)}")
    parsed: list[float | None] = []
    for v in values:
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise TypeError(f"target_shape values must be numbers or None, got {target_shape!r}")
        if v is not None and v <= 0:
            raise ValueError(f"target_shape values must be positive, got {target_shape!r}")
        parsed.append(None if v is None else float(v))
    return (parsed[0], parsed[1], parsed[2])


def target_voxels(
    target: Target, units: str, spacing: tuple[float, ...], shape: tuple[int, int, int]
) -> tuple[int, int, int]:
    """The target in voxels: ``None`` keeps the current size, lengths are divided by spacing."""
    result = []
    for value, step, size in zip(target, spacing, shape, strict=True):
        if value is None:
            result.append(size)
        elif units == "voxels":
            result.append(round(value))
        else:
            result.append(round(value * (10.0 if units == "cm" else 1.0) / step))
    return (result[0], result[1], result[2])


def crop_and_pad(
    shape: tuple[int, int, int],
    target: tuple[int, int, int],
    *,
    only_crop: bool,
    only_pad: bool,
    location: str,
) -> tuple[Six | None, Six | None]:
    """``(padding, cropping)`` taking ``shape`` to ``target`` (``None`` when there is none).

    Padding is centred (the extra voxel first); cropping is centred the same
    way or, for ``location="random"``, starts at a uniformly drawn voxel.
    """
    pads: list[int] = []
    crops: list[int] = []
    for size, wanted in zip(shape, target, strict=True):
        difference = wanted - size
        if difference > 0:
            pads += [math.ceil(difference / 2), difference // 2]
            crops += [0, 0]
        elif difference < 0:
            excess = -difference
            if location == "random":
                first = int(torch.randint(0, excess + 1, (1,)).item())
            else:
                first = math.ceil(excess / 2)
            pads += [0, 0]
            crops += [first, excess - first]
        else:
            pads += [0, 0]
            crops += [0, 0]
    padding = tuple(pads) if any(pads) and not only_crop else None
    cropping = tuple(crops) if any(crops) and not only_pad else None
    return padding, cropping  # type: ignore[return-value]


class CropOrPad(SpatialTransform):
    """Crop and/or pad to a target spatial shape, keeping voxels at their world positions.

    Axes longer than the target are cropped (centred, or at a random place),
    shorter ones padded (centred). The history gets a ``Pad`` and/or ``Crop``
    record (which invert) and a ``CropOrPad`` record, as in TorchIO. Images not
    loaded yet are not read: they will read only the kept voxels.

    Args:
        target_shape: One size for all axes or three (``None`` keeps an axis).
        units: ``"voxels"``, or ``"mm"``/``"cm"`` (converted with the first
            image's spacing).
        padding_mode: See :class:`~tioxide.Pad`.
        fill: The value of ``'constant'`` padding.
        only_crop: Never pad.
        only_pad: Never crop.
        location: ``"center"`` or ``"random"`` placement of the crop.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: ``only_crop`` and ``only_pad`` together; bad units,
            location, padding mode or target.
    """

    def __init__(
        self,
        target_shape: float | tuple[float | None, float | None, float | None],
        *,
        units: Units = "voxels",
        padding_mode: PaddingMode = "constant",
        fill: float = 0,
        only_crop: bool = False,
        only_pad: bool = False,
        location: Location = "center",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if only_crop and only_pad:
            raise ValueError("only_crop and only_pad cannot both be True")
        if units not in ("voxels", "mm", "cm"):
            raise ValueError(f"units must be 'voxels', 'mm', or 'cm', got {units!r}")
        if location not in ("center", "random"):
            raise ValueError(f"location must be 'center' or 'random', got {location!r}")
        self.target_shape = _parse_target(target_shape)
        self.units: Units = units
        self.padding_mode = parse_padding_mode(padding_mode)
        self.fill = fill
        self.only_crop = only_crop
        self.only_pad = only_pad
        self.location: Location = location

    def _apply_to_subject(self, subject: Subject, *, batched: bool) -> Subject:
        if batched:
            return super()._apply_to_subject(subject, batched=True)
        # TorchIO 2 applies CropOrPad to a subject or image on its own path: it skips
        # when rand > p (not >=) and runs its Pad and Crop steps without drawing for them.
        if torch.rand(1).item() > self.p:
            return subject
        params = self.make_params(subject)
        self._pad_then_crop(subject, params, draw=False)
        subject.applied_transforms.append(self._record(params))
        return subject

    def make_params(self, subject: Subject) -> dict[str, Any]:
        first = first_image(subject, self)
        shape = first.spatial_shape
        target = target_voxels(self.target_shape, self.units, first.spacing, shape)
        if self.units != "voxels":
            logger.debug(
                "CropOrPad target %s %s -> %s voxels (spacing %s mm)",
                self.target_shape,
                self.units,
                target,
                first.spacing,
            )
        padding, cropping = crop_and_pad(
            shape, target, only_crop=self.only_crop, only_pad=self.only_pad, location=self.location
        )
        return {"padding": padding, "cropping": cropping}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        return self._pad_then_crop(subject, params, draw=True)

    def _pad_then_crop(self, subject: Subject, params: dict[str, Any], *, draw: bool) -> Subject:
        """Pad, then crop, each step recorded as a ``Pad``/``Crop`` would record itself.

        Args:
            draw: Draw the steps' (always passing) probability coins, as the
                ``Pad`` and ``Crop`` transforms TorchIO runs on batches do.
        """
        padding, cropping = params["padding"], params["cropping"]
        if padding is not None:
            if draw:
                torch.rand(1)
            for name, image in self._get_images(subject).items():
                replace_image(subject, name, _ops.pad(image, padding, self.padding_mode, self.fill))
            step = {"padding": padding, "padding_mode": self.padding_mode, "fill": self.fill}
            subject.applied_transforms.append(self._record(step, "Pad"))
        if cropping is not None:
            if draw:
                torch.rand(1)
            for name, image in self._get_images(subject).items():
                replace_image(subject, name, _ops.crop(image, cropping))
            subject.applied_transforms.append(self._record({"cropping": cropping}, "Crop"))
        return subject
