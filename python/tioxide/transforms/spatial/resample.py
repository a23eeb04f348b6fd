"""``Resample``: resample images to another grid (a voxel size, an image's grid, or a pair)."""

from __future__ import annotations

from typing import Any

from .spatial import Spatial


class Resample(Spatial):
    """Resample images to another grid.

    Args:
        target: Voxel size in mm (one number or three; a range, ``Choice`` or
            distribution draws it once per call), the name of an image of the
            subject or a file path (its grid), an :class:`~tioxide.Image`, a
            ``(spatial_shape, affine)`` pair, or ``None`` (keep the grid).
            With a voxel size, the field of view keeps its centre and sizes
            are rounded down.
        image_interpolation: See :class:`~tioxide.Spatial`.
        label_interpolation: See :class:`~tioxide.Spatial`.
        one_hot_label_interpolation: See :class:`~tioxide.Spatial`.
        antialias: Smooth scalar images along downsampled axes first.
        **kwargs: Other arguments of :class:`~tioxide.Spatial` (such as
            ``default_pad_value``) and of :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A target of an unknown kind, a non-positive spacing, a bad
            interpolation or pad value.
    """

    def __init__(
        self,
        target: Any = 1,
        image_interpolation: str | int = "linear",
        label_interpolation: str | int = "nearest",
        one_hot_label_interpolation: str | int = "linear",
        antialias: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            target=target,
            image_interpolation=image_interpolation,
            label_interpolation=label_interpolation,
            one_hot_label_interpolation=one_hot_label_interpolation,
            antialias=antialias,
            **kwargs,
        )
