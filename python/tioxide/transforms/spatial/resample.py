"""``Resample`` and ``Affine``: resampling to another grid, with an optional world-space motion.

TorchIO 2 builds both on its ``Spatial`` transform (resampling, affine motion
and elastic deformation in one grid). tioxide has the resampling and affine
parts, with linear and nearest interpolation; the records and inverses are
TorchIO's, so histories can be inverted by either library.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from ...data.image import Image, LabelMap
from ...data.subject import Subject
from ..parameter_range import _ParameterRange
from ..transform import SpatialTransform, replace_image
from . import _grid
from ._grid import Space


def _range(value: Any, what: str, *, positive: bool = False) -> _ParameterRange:
    """A parameter range from numbers (made floats), tuples, choices or distributions."""
    if isinstance(value, int | float):
        value = float(value)
    elif isinstance(value, tuple) and all(isinstance(v, int | float) for v in value):
        value = tuple(float(v) for v in value)
    parsed = _ParameterRange(value)
    if positive and parsed._distribution is None:
        for low, high in parsed._ranges:
            if low <= 0 or high <= 0:
                raise ValueError(f"{what} must be strictly positive, got {value}")
    return parsed


def _pad_value(value: Any) -> str | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if value in _grid.PAD_VALUES:
        return str(value)
    raise ValueError('default_pad_value must be "minimum", "mean", "otsu", or a numeric value')


def resample_images(
    subject: Subject,
    names: list[str],
    output: Space | None,
    motion: npt.NDArray[np.float64] | None,
    settings: dict[str, Any],
) -> None:
    """Resample the named images of ``subject`` onto ``output`` (their own grid if None).

    Images are sampled through their own affines, so images of one subject on
    different grids land on the same output grid. (TorchIO 2.0.0a2 maps every
    image through the first image's affine.)
    """
    for name in names:
        image: Image = subject[name]
        source: Space = (image.spatial_shape, image.affine)
        target = output if output is not None else source
        grid = _grid.sampling_grid(source, target, motion)
        data = image.data
        fill: float | torch.Tensor
        if isinstance(image, LabelMap):
            mode, fill = settings["label_interpolation"], float(settings["default_pad_label"])
        else:
            mode = settings["image_interpolation"]
            fill = _grid.fill_value(data, settings["default_pad_value"])
            if settings.get("antialias", False):
                data = _grid.antialias(data, image.affine, target[1])
        resampled = _grid.sample(data, grid, mode, fill)
        replace_image(subject, name, image.new_like(data=resampled, affine=target[1].clone()))


class _Resampling(SpatialTransform):
    """What Resample and Affine share: sampling settings, records, inversion."""

    def _settings(
        self,
        image_interpolation: Any,
        label_interpolation: Any,
        one_hot_label_interpolation: Any,
        antialias: bool,
        default_pad_value: Any,
        default_pad_label: Any,
    ) -> None:
        self.image_interpolation = _grid.parse_interpolation(
            image_interpolation, "image_interpolation"
        )
        self.label_interpolation = _grid.parse_interpolation(
            label_interpolation, "label_interpolation"
        )
        self.one_hot_label_interpolation = _grid.parse_interpolation(
            one_hot_label_interpolation, "one_hot_label_interpolation"
        )
        self.antialias = antialias
        self.default_pad_value = _pad_value(default_pad_value)
        if isinstance(default_pad_label, bool) or not isinstance(default_pad_label, int | float):
            raise TypeError(f"default_pad_label must be numeric, got {type(default_pad_label)}")
        self.default_pad_label = float(default_pad_label)

    def _draw_motion(
        self, shape: tuple[int, int, int], affine: Any
    ) -> npt.NDArray[np.float64] | None:
        return None

    def _target(self) -> Any:
        return None

    def make_params(self, subject: Subject) -> dict[str, Any]:
        images = self._get_images(subject)
        if not images:
            return {"selected_images": []}
        first = next(iter(images.values()))
        shape, affine = first.spatial_shape, first.affine
        params: dict[str, Any] = {
            "selected_images": list(images),
            "original": _grid.serialize_space((shape, affine)),
            "affine_first": True,
            "image_interpolation": self.image_interpolation,
            "label_interpolation": self.label_interpolation,
            "one_hot_label_interpolation": self.one_hot_label_interpolation,
            "antialias": self.antialias,
            "default_pad_value": self.default_pad_value,
            "default_pad_label": self.default_pad_label,
        }
        motion = self._draw_motion(shape, affine)
        if motion is not None:
            _check_shared_space(images, shape, affine)
        target = _grid.resolve_target(self._target(), subject, shape, affine)
        params["target"] = _grid.serialize_space(target)
        params["affine_matrix"] = None if motion is None else motion.tolist()
        params["control_points"] = None
        params["max_displacement"] = None
        return params

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        names = params.get("selected_images", [])
        output = _grid.deserialize_space(params.get("target"))
        motion = params.get("affine_matrix")
        if not names or (output is None and motion is None):
            return subject
        matrix = None if motion is None else np.asarray(motion, dtype=np.float64)
        resample_images(subject, list(names), output, matrix, params)
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> _ResampleInverse:
        """Resampling back to the recorded grid, through the inverse motion."""
        motion = params.get("affine_matrix")
        return _ResampleInverse(
            target=params["original"],
            affine_matrix=None if motion is None else np.linalg.inv(np.asarray(motion)).tolist(),
            image_interpolation=params["image_interpolation"],
            label_interpolation=params["label_interpolation"],
            default_pad_value=params["default_pad_value"],
            default_pad_label=params["default_pad_label"],
            copy=False,
            include=params["selected_images"],
        )


def _check_shared_space(images: dict[str, Image], shape: tuple[int, ...], affine: Any) -> None:
    """A motion moves images together: they must share one grid (as in TorchIO)."""
    for name, image in images.items():
        if image.spatial_shape != shape:
            raise RuntimeError(f'Image "{name}" has shape {image.spatial_shape}, expected {shape}')
        if not torch.allclose(image.affine.data, affine.data, rtol=1e-6, atol=1e-6):
            raise RuntimeError(
                "Spatial transforms with affine or elastic components require"
                " selected images to share the same affine"
            )


class _ResampleInverse(SpatialTransform):
    """Resample back to a recorded grid (the inverse of Resample and Affine)."""

    def __init__(
        self,
        *,
        target: dict[str, Any],
        affine_matrix: list[list[float]] | None,
        image_interpolation: str,
        label_interpolation: str,
        default_pad_value: str | float,
        default_pad_label: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._target = target
        self._motion = None if affine_matrix is None else np.asarray(affine_matrix)
        self._settings = {
            "image_interpolation": image_interpolation,
            "label_interpolation": label_interpolation,
            "default_pad_value": default_pad_value,
            "default_pad_label": default_pad_label,
            "antialias": False,
        }

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        output = _grid.deserialize_space(self._target)
        resample_images(
            subject, list(self._get_images(subject)), output, self._motion, self._settings
        )
        return subject


class Resample(_Resampling):
    """Resample images to another grid: a voxel size, an image's grid, or ``(shape, affine)``.

    Args:
        target: Voxel size in mm (one number or three; a range, ``Choice`` or
            distribution draws it once per call), the name of an image of the
            subject or a file path (its grid), an :class:`Image`, a
            ``(spatial_shape, affine)`` pair, or ``None`` (keep the grid).
            With a voxel size, the field of view keeps its centre and sizes
            are rounded down.
        image_interpolation: ``"linear"`` or ``"nearest"`` (or 1, 0) for scalar images.
        label_interpolation: The same for label maps (``"nearest"`` by default).
        one_hot_label_interpolation: Accepted for TorchIO compatibility (only
            ``"linear"`` and ``"nearest"``); used by the ``"label"`` mode,
            which tioxide does not implement yet.
        antialias: Smooth scalar images along downsampled axes first.
        default_pad_value: Value of scalar voxels outside the input:
            ``"minimum"``, ``"mean"`` or ``"otsu"`` (of the borders), or a number.
        default_pad_label: Value of label voxels outside the input.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A target of an unknown kind, a non-positive spacing, a bad
            interpolation or pad value.
        NotImplementedError: B-spline interpolation orders and the ``"label"`` mode.
    """

    def __init__(
        self,
        target: Any = 1,
        image_interpolation: str | int = "linear",
        label_interpolation: str | int = "nearest",
        one_hot_label_interpolation: str | int = "linear",
        antialias: bool = False,
        *,
        default_pad_value: str | float = "minimum",
        default_pad_label: float = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _grid.check_target(target)
        if isinstance(target, int | float) and target <= 0:
            raise ValueError(f"Spacing must be strictly positive, got {target}")
        self.target = target
        self._settings(
            image_interpolation,
            label_interpolation,
            one_hot_label_interpolation,
            antialias,
            default_pad_value,
            default_pad_label,
        )

    def _target(self) -> Any:
        return self.target


class Affine(_Resampling):
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
        default_pad_value: See :class:`Resample`.
        default_pad_label: See :class:`Resample`.
        image_interpolation: See :class:`Resample`.
        label_interpolation: See :class:`Resample`.
        one_hot_label_interpolation: See :class:`Resample`.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

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
        super().__init__(**kwargs)
        if isotropic and isinstance(scales, tuple) and len(scales) in (3, 6):
            raise ValueError("If isotropic=True, scales must be a single value or a 2-value range")
        if center not in ("image", "origin"):
            raise ValueError(f'center must be "image" or "origin", got "{center}"')
        self.scales = _range(scales, "Scale factors", positive=True)
        self.degrees = _range(degrees, "degrees")
        self.translation = _range(translation, "translation")
        self.isotropic = isotropic
        self.center = center
        self._settings(
            image_interpolation,
            label_interpolation,
            one_hot_label_interpolation,
            False,
            default_pad_value,
            default_pad_label,
        )
        self._warn_if_noop(
            is_noop=self.scales.is_constant(1.0)
            and self.degrees.is_constant(0.0)
            and self.translation.is_constant(0.0),
            hint="degrees=(-15, 15)",
        )

    def _draw_motion(
        self, shape: tuple[int, int, int], affine: Any
    ) -> npt.NDArray[np.float64] | None:
        if self.isotropic:
            scale = self.scales.sample_1d()
            scales: tuple[float, ...] = (scale, scale, scale)
        else:
            scales = self.scales.sample()
        degrees = self.degrees.sample()
        translation = self.translation.sample()
        identity = (
            np.allclose(scales, 1.0) and np.allclose(degrees, 0.0) and np.allclose(translation, 0.0)
        )
        if identity:
            return None
        return _grid.motion_matrix(
            scales, degrees, translation, centre=self.center, shape=shape, affine=affine
        )
