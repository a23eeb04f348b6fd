"""``Spatial``: resampling, an affine motion and an elastic deformation in one sampling grid.

:class:`~tioxide.Resample`, :class:`~tioxide.Affine` and
:class:`~tioxide.ElasticDeformation` expose parts of it, as in TorchIO 2.
Parameters are drawn, recorded and inverted as TorchIO does, so histories
can be inverted by either library. Nearest and linear interpolation use
``grid_sample``; B-spline orders 2-7 use ``torch-interpol``, as TorchIO does.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from torch.distributions import Distribution

from ...data.image import Image, LabelMap
from ...data.subject import Subject
from ..parameter_range import _ParameterRange
from ..transform import SpatialTransform, replace_image
from . import _grid
from ._grid import Space

#: Control points a spline of this order needs beyond the mesh (TorchIO's folding check).
_SPLINE_ORDER = 3


def parameter_range(value: Any, what: str, *, nonnegative: bool = False) -> _ParameterRange:
    """A range from numbers (made floats), tuples, choices or distributions.

    Raises:
        ValueError: ``nonnegative`` and a bound below zero.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value)
    elif isinstance(value, tuple) and all(isinstance(v, int | float) for v in value):
        value = tuple(float(v) for v in value)
    parsed = _ParameterRange(value)
    if nonnegative and parsed._distribution is None:
        for a, b in parsed._ranges:
            if a < 0 or b < 0:
                raise ValueError(f"{what} must be non-negative, got {value}")
    return parsed


def _positive(value: Any, what: str) -> _ParameterRange:
    parsed = parameter_range(value, what)
    if parsed._distribution is None:
        for a, b in parsed._ranges:
            if a <= 0 or b <= 0:
                raise ValueError(f"{what} must be strictly positive, got {value}")
    return parsed


def _pad_value(value: Any) -> str | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if value in _grid.PAD_VALUES:
        return str(value)
    raise ValueError('default_pad_value must be "minimum", "mean", "otsu", or a numeric value')


def _control_point_counts(value: Any) -> tuple[int, int, int]:
    counts = (value, value, value) if isinstance(value, int) else tuple(value)
    if len(counts) != 3:
        raise ValueError(f"num_control_points must be an int or 3 ints, got {value!r}")
    for axis, number in enumerate(counts):
        if isinstance(number, bool) or not isinstance(number, int) or number < 4:
            raise ValueError(
                "Each num_control_points value must be an integer greater than 3;"
                f" axis {axis} got {number}"
            )
    return (counts[0], counts[1], counts[2])


def parse_control_points(value: Any) -> Tensor:
    """A ``(n_i, n_j, n_k, 3)`` float32 field of displacements in mm.

    Raises:
        ValueError: Another shape, or fewer than 4 points along an axis.
    """
    if isinstance(value, Tensor):
        tensor = value.detach().clone().to(torch.float32)
    else:
        tensor = torch.as_tensor(np.asarray(value), dtype=torch.float32)
    if tensor.ndim != 4 or tensor.shape[-1] != 3:
        raise ValueError(
            f"control_points must have shape (n_i, n_j, n_k, 3), got {tuple(tensor.shape)}"
        )
    for axis, size in enumerate(tensor.shape[:-1]):
        if size < 4:
            raise ValueError(
                f"Each control-point axis must have at least 4 elements; axis {axis} got {size}"
            )
    return tensor.contiguous()


def max_abs_displacement(control_points: Tensor) -> tuple[float, float, float]:
    largest = control_points.abs().amax(dim=(0, 1, 2))
    return (float(largest[0]), float(largest[1]), float(largest[2]))


def random_control_points(
    counts: tuple[int, int, int], largest: tuple[float, ...], locked_borders: int
) -> Tensor:
    """Displacements uniform in ``[-largest, largest]`` per axis; outer layers held at zero."""
    field = torch.rand(*counts, 3, dtype=torch.float32)
    field -= 0.5
    field *= 2
    for axis in range(3):
        field[..., axis] *= largest[axis]
    for border in range(locked_borders):
        for side in (border, -1 - border):
            field[side] = 0
            field[:, side] = 0
            field[:, :, side] = 0
    return field


def warn_if_folding(
    control_points: Tensor, largest: Sequence[float], shape: tuple[int, int, int], spacing: Any
) -> None:
    """Warn when displacements exceed half the control-point spacing (the grid may fold)."""
    mesh = np.array(control_points.shape[:-1], dtype=np.float64) - _SPLINE_ORDER
    grid_spacing = np.array(shape, dtype=np.float64) * np.asarray(spacing) / mesh
    conflicts = np.array(largest, dtype=np.float64) > grid_spacing / 2
    if np.any(conflicts):
        warnings.warn(
            "The maximum displacement is larger than half the coarse-grid spacing for"
            f" dimensions {np.where(conflicts)[0].tolist()}, so folding may occur",
            RuntimeWarning,
            stacklevel=5,
        )


def resample_images(
    subject: Subject,
    names: list[str],
    output: Space | None,
    motion: npt.NDArray[np.float64] | None,
    control_points: Tensor | None,
    largest: Sequence[float] | None,
    settings: dict[str, Any],
) -> None:
    """Resample the named images of ``subject`` onto ``output`` (their own grid if None).

    Each image is sampled through its own affine, so images of one subject on
    different grids land on the same output grid (TorchIO 2.0.0a2 maps every
    image through the first one's affine; the results agree when images share
    a grid, which motions and deformations require).
    """
    grids: dict[tuple[Any, ...], tuple[Tensor, Tensor]] = {}
    for name in names:
        image: Image = subject[name]
        source: Space = (image.spatial_shape, image.affine)
        target = output if output is not None else source
        key = (source[0], source[1].numpy().tobytes(), target[0], target[1].numpy().tobytes())
        if key not in grids:
            displacement = None
            if control_points is not None:
                if largest is None:
                    largest = max_abs_displacement(control_points)
                warn_if_folding(control_points, largest, target[0], target[1].spacing)
                displacement = _grid.dense_displacement(control_points, target[0])
            voxels = _grid.voxel_grid(
                source, target, motion, displacement, affine_first=settings["affine_first"]
            )
            grids[key] = (voxels, _grid.normalised_grid(voxels, source[0]))
        voxels, grid = grids[key]
        data = image.data
        antialias = settings.get("antialias", False)
        if isinstance(image, LabelMap) and settings["label_interpolation"] == _grid.LABEL:
            smooth = partial(_grid.antialias, input_affine=image.affine, output_affine=target[1])
            resampled = _grid.sample_labels(
                data,
                voxels,
                grid,
                settings.get("one_hot_label_interpolation", "linear"),
                float(settings["default_pad_label"]),
                smooth if antialias else None,
            )
        elif isinstance(image, LabelMap):
            mode = settings["label_interpolation"]
            fill = float(settings["default_pad_label"])
            resampled = _grid.sample(data, voxels, grid, mode, fill)
        else:
            fill_value = _grid.fill_value(data, settings["default_pad_value"])
            if antialias:
                data = _grid.antialias(data, image.affine, target[1])
            resampled = _grid.sample(
                data, voxels, grid, settings["image_interpolation"], fill_value
            )
        replace_image(subject, name, image.new_like(data=resampled, affine=target[1].clone()))


def _check_shared_space(images: dict[str, Image], shape: tuple[int, ...], affine: Any) -> None:
    """Motions and deformations move images together: they must share one grid."""
    for name, image in images.items():
        if image.spatial_shape != shape:
            raise RuntimeError(f'Image "{name}" has shape {image.spatial_shape}, expected {shape}')
        if not torch.allclose(image.affine.data, affine.data, rtol=1e-6, atol=1e-6):
            raise RuntimeError(
                "Spatial transforms with affine or elastic components require"
                " selected images to share the same affine"
            )


class Spatial(SpatialTransform):
    """Resample to a new grid, move (scale, rotate, translate) and deform, in one sampling.

    Random parameters (``scales``, ``degrees``, ``translation``,
    ``max_displacement``, and a spacing ``target``) take a value, a range
    ``(a, b)``, three values, six values (a range per axis), a ``Choice`` or
    a distribution, and are drawn at each call as in TorchIO.

    Args:
        target: The output grid: a voxel size in mm (fixed or random), the
            name of an image of the subject or a file path (its grid), an
            :class:`Image`, ``(spatial_shape, affine)``, or ``None`` (keep the grid).
        scales: Scale factors (2 zooms in).
        degrees: Euler angles in degrees (rotation ``Rz @ Ry @ Rx``).
        translation: Translation in mm (world axes, RAS+).
        isotropic: One scale for the three axes.
        center: ``"image"`` or ``"origin"``: the pivot of rotation and scaling.
        control_points: A ``(n_i, n_j, n_k, 3)`` field of displacements in mm
            (instead of a random one).
        num_control_points: Control points per axis (at least 4) of the random field.
        max_displacement: Largest random displacement in mm (0: no deformation).
        locked_borders: Outer layers of control points (0-2) held at zero.
        affine_first: Apply the motion before the deformation.
        image_interpolation: For scalar images: ``"nearest"``, ``"linear"``, or a
            B-spline ``"quadratic"``, ``"cubic"``, ``"fourth"`` ... ``"seventh"``
            (or the order, 0-7; orders from 2 need ``tioxide[interpol]``).
        label_interpolation: The same for label maps (``"nearest"`` by
            default), or ``"label"``: partial-volume resampling (each label as
            a channel, resampled, the largest wins), which avoids staircases.
        one_hot_label_interpolation: How the ``"label"`` mode resamples its
            one-hot channels (any mode but ``"label"``).
        antialias: Smooth scalar images along downsampled axes first.
        default_pad_value: Scalar voxels outside the input: ``"minimum"``,
            ``"mean"`` or ``"otsu"`` (of the borders), or a number.
        default_pad_label: Label voxels outside the input.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: Bad values for any of the above.
    """

    _PER_INSTANCE_PARAMS = True

    @property
    def supports_per_instance_p(self) -> bool:
        """Elements are gated one by one unless resampled into a target space
        (a skipped element would keep a shape its neighbours lost)."""
        return self.target is None

    def __init__(
        self,
        *,
        target: Any = None,
        scales: Any = 1.0,
        degrees: Any = 0.0,
        translation: Any = 0.0,
        isotropic: bool = False,
        center: str = "image",
        control_points: Any = None,
        num_control_points: int | tuple[int, int, int] = 7,
        max_displacement: Any = 0.0,
        locked_borders: int = 2,
        affine_first: bool = True,
        image_interpolation: str | int = "linear",
        label_interpolation: str | int = "nearest",
        one_hot_label_interpolation: str | int = "linear",
        antialias: bool = False,
        default_pad_value: str | float = "minimum",
        default_pad_label: float = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _grid.check_target(target)
        if isinstance(target, int | float) and target <= 0:
            raise ValueError(f"Spacing must be strictly positive, got {target}")
        self.target = target
        per_axis = isinstance(scales, tuple) and len(scales) in (3, 6)
        if isotropic and per_axis and not isinstance(scales, Distribution):
            raise ValueError("If isotropic=True, scales must be a single value or a 2-value range")
        self.scales = _positive(scales, "Scale factors")
        self.degrees = parameter_range(degrees, "degrees")
        self.translation = parameter_range(translation, "translation")
        self.isotropic = isotropic
        if center not in ("image", "origin"):
            raise ValueError(f'center must be "image" or "origin", got "{center}"')
        self.center = center
        self.control_points = (
            None if control_points is None else parse_control_points(control_points)
        )
        self.num_control_points = _control_point_counts(num_control_points)
        self.max_displacement = parameter_range(
            max_displacement, "max_displacement", nonnegative=True
        )
        if locked_borders not in (0, 1, 2):
            raise ValueError(f"locked_borders must be 0, 1, or 2, got {locked_borders}")
        self.locked_borders = locked_borders
        if locked_borders == 2 and 4 in self.num_control_points:
            raise ValueError(
                "locked_borders=2 with 4 control points along any axis yields an identity"
                " elastic field"
            )
        self.affine_first = affine_first
        self.image_interpolation = _grid.parse_interpolation(
            image_interpolation, "image_interpolation", label=False
        )
        self.label_interpolation = _grid.parse_interpolation(
            label_interpolation, "label_interpolation"
        )
        self.one_hot_label_interpolation = _grid.parse_interpolation(
            one_hot_label_interpolation, "one_hot_label_interpolation", label=False
        )
        self.antialias = antialias
        self.default_pad_value = _pad_value(default_pad_value)
        if isinstance(default_pad_label, bool) or not isinstance(default_pad_label, int | float):
            raise TypeError(f"default_pad_label must be numeric, got {type(default_pad_label)}")
        self.default_pad_label = float(default_pad_label)

    # -- drawing ------------------------------------------------------------------------

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
        if np.allclose(scales, 1.0) and np.allclose(degrees, 0.0) and np.allclose(translation, 0.0):
            return None
        return _grid.motion_matrix(
            scales, degrees, translation, centre=self.center, shape=shape, affine=affine
        )

    def _draw_field(self) -> tuple[Tensor | None, tuple[float, ...] | None]:
        if self.control_points is not None:
            return self.control_points.clone(), max_abs_displacement(self.control_points)
        largest = self.max_displacement.sample()
        if all(value == 0.0 for value in largest):
            return None, None
        field = random_control_points(self.num_control_points, largest, self.locked_borders)
        return field, largest

    def make_params(self, subject: Subject) -> dict[str, Any]:
        images = self._get_images(subject)
        if not images:
            return {"selected_images": []}
        first = next(iter(images.values()))
        shape, affine = first.spatial_shape, first.affine
        params: dict[str, Any] = {
            "selected_images": list(images),
            "original": _grid.serialize_space((shape, affine)),
            "affine_first": self.affine_first,
            "image_interpolation": self.image_interpolation,
            "label_interpolation": self.label_interpolation,
            "one_hot_label_interpolation": self.one_hot_label_interpolation,
            "antialias": self.antialias,
            "default_pad_value": self.default_pad_value,
            "default_pad_label": self.default_pad_label,
        }
        motion = self._draw_motion(shape, affine)
        field, largest = self._draw_field()
        if motion is not None or field is not None:
            _check_shared_space(images, shape, affine)
        target = _grid.resolve_target(self.target, subject, shape, affine)
        params["target"] = _grid.serialize_space(target)
        params["affine_matrix"] = None if motion is None else motion.tolist()
        params["control_points"] = None if field is None else field.tolist()
        params["max_displacement"] = None if largest is None else list(largest)
        return params

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        names = params.get("selected_images", [])
        output = _grid.deserialize_space(params.get("target"))
        motion, field = params.get("affine_matrix"), params.get("control_points")
        largest = params.get("max_displacement")
        if not names or (output is None and motion is None and field is None and largest is None):
            return subject
        resample_images(
            subject,
            list(names),
            output,
            None if motion is None else np.asarray(motion, dtype=np.float64),
            None if field is None else torch.as_tensor(field, dtype=torch.float32),
            None if largest is None else [float(v) for v in largest],
            params,
        )
        return subject

    # -- inversion ----------------------------------------------------------------------

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> _SpatialInverse:
        """Resampling back to the recorded grid: the inverse motion (exact) and the
        negated displacements (approximate), in the opposite order.

        Raises:
            RuntimeError: The parameters do not record the original grid.
        """
        motion, field = params.get("affine_matrix"), params.get("control_points")
        if params.get("original") is None:
            raise RuntimeError(
                f"{type(self).__name__} cannot be inverted: its parameters do not record"
                " the original output space (shape and affine) to resample back to"
            )
        return _SpatialInverse(
            target=params["original"],
            affine_matrix=None if motion is None else np.linalg.inv(np.asarray(motion)).tolist(),
            control_points=None if field is None else (-torch.as_tensor(field)).tolist(),
            affine_first=not params["affine_first"],
            image_interpolation=params["image_interpolation"],
            label_interpolation=params["label_interpolation"],
            one_hot_label_interpolation=params.get("one_hot_label_interpolation", "linear"),
            default_pad_value=params["default_pad_value"],
            default_pad_label=params["default_pad_label"],
            copy=False,
            include=params.get("selected_images"),
        )


class _SpatialInverse(SpatialTransform):
    """Resample back to a recorded grid (the inverse of :class:`Spatial` and its wrappers)."""

    def __init__(
        self,
        *,
        target: dict[str, Any],
        affine_matrix: list[list[float]] | None,
        control_points: list[Any] | None,
        affine_first: bool,
        image_interpolation: str,
        label_interpolation: str,
        one_hot_label_interpolation: str = "linear",
        default_pad_value: str | float,
        default_pad_label: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._target = target
        self._motion = None if affine_matrix is None else np.asarray(affine_matrix)
        self._field = None if control_points is None else parse_control_points(control_points)
        self._settings = {
            "affine_first": affine_first,
            "image_interpolation": image_interpolation,
            "label_interpolation": label_interpolation,
            "one_hot_label_interpolation": one_hot_label_interpolation,
            "default_pad_value": default_pad_value,
            "default_pad_label": default_pad_label,
            "antialias": False,
        }

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        output = _grid.deserialize_space(self._target)
        names = list(self._get_images(subject))
        resample_images(subject, names, output, self._motion, self._field, None, self._settings)
        return subject
