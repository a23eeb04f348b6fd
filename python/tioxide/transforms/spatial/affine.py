"""``Affine``: scale, rotate and translate images in world space."""

from __future__ import annotations

from typing import Any

from .spatial import Spatial


class Affine(Spatial):
    """Scale, rotate (about the image centre) and translate images in world space.

    Each parameter is a value, a range, three values, six values (a range per
    axis), a ``Choice`` or a distribution, drawn at each call as in TorchIO.

    Args:
        scales: Scale factors (2 zooms in: objects look twice as big).
        degrees: Euler angles in degrees (rotation ``Rz @ Ry @ Rx``).
        translation: Translation in mm (world axes, RAS+).
        isotropic: Draw one scale for the three axes.
        center: ``"image"`` (rotate and scale about the image centre) or
            ``"origin"`` (about the world origin).
        default_pad_value: See :class:`~tioxide.Spatial`.
        default_pad_label: See :class:`~tioxide.Spatial`.
        image_interpolation: See :class:`~tioxide.Spatial`.
        label_interpolation: See :class:`~tioxide.Spatial`.
        one_hot_label_interpolation: See :class:`~tioxide.Spatial`.
        **kwargs: See :class:`~tioxide.Spatial` and :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: Non-positive scales, per-axis scales with ``isotropic``,
            an unknown center, bad interpolation or pad value.
    """

    def __init__(
        self,
        *,
        scales: Any = 1.0,
        degrees: Any = 0.0,
        translation: Any = 0.0,
        isotropic: bool = False,
        center: str = "image",
        default_pad_value: str | float = "minimum",
        default_pad_label: float = 0,
        image_interpolation: str | int = "linear",
        label_interpolation: str | int = "nearest",
        one_hot_label_interpolation: str | int = "linear",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scales=scales,
            degrees=degrees,
            translation=translation,
            isotropic=isotropic,
            center=center,
            default_pad_value=default_pad_value,
            default_pad_label=default_pad_label,
            image_interpolation=image_interpolation,
            label_interpolation=label_interpolation,
            one_hot_label_interpolation=one_hot_label_interpolation,
            **kwargs,
        )
        self._warn_if_noop(
            is_noop=self.scales.is_constant(1.0)
            and self.degrees.is_constant(0.0)
            and self.translation.is_constant(0.0),
            hint="degrees=(-15, 15)",
        )
