"""``ElasticDeformation``: a smooth random displacement field."""

from __future__ import annotations

from typing import Any

from .spatial import Spatial


class ElasticDeformation(Spatial):
    """Deform images with displacements drawn on a coarse grid and upsampled trilinearly.

    Args:
        control_points: A ``(n_i, n_j, n_k, 3)`` field of displacements in mm,
            instead of a random one.
        num_control_points: Control points per axis (at least 4); fewer give
            smoother deformations.
        max_displacement: Largest displacement in mm (value, range, ``Choice``
            or distribution, drawn at each call).
        locked_borders: Outer layers of control points (0-2) held at zero.
        image_interpolation: See :class:`~tioxide.Spatial`.
        label_interpolation: See :class:`~tioxide.Spatial`.
        one_hot_label_interpolation: See :class:`~tioxide.Spatial`.
        **kwargs: See :class:`~tioxide.Spatial` and :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: Fewer than 4 control points, negative displacements,
            ``locked_borders`` not in 0-2 (or 2 with 4 points: no deformation).
    """

    def __init__(
        self,
        *,
        control_points: Any = None,
        num_control_points: int | tuple[int, int, int] = 7,
        max_displacement: Any = 7.5,
        locked_borders: int = 2,
        image_interpolation: str | int = "linear",
        label_interpolation: str | int = "nearest",
        one_hot_label_interpolation: str | int = "linear",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            control_points=control_points,
            num_control_points=num_control_points,
            max_displacement=max_displacement,
            locked_borders=locked_borders,
            image_interpolation=image_interpolation,
            label_interpolation=label_interpolation,
            one_hot_label_interpolation=one_hot_label_interpolation,
            **kwargs,
        )
