"""Resampling on a grid: output spaces, world-space affine motions, sampling and fill values.

Every output voxel is mapped to world coordinates by the output affine,
through the inverse of an optional world-space motion, and into input voxel
coordinates; the input is sampled there with ``grid_sample`` (trilinear or
nearest, corners aligned). The arithmetic follows TorchIO 2.0.0a2 step by
step (float64 matrices, float32 grids) so that results agree to the bit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor
from torch.distributions import Distribution

from ...data.affine import AffineMatrix
from ...data.extras import require
from ...data.image import Image, ScalarImage
from ...data.subject import Subject
from .._smoothing import gaussian_smooth
from ..parameter_range import Choice, _ParameterRange

#: A grid: ``(spatial shape, affine)``.
Space = tuple[tuple[int, int, int], AffineMatrix]

#: Interpolation modes by B-spline order, then TorchIO's partial-volume mode for labels.
ORDERS = ("nearest", "linear", "quadratic", "cubic", "fourth", "fifth", "sixth", "seventh")
LABEL = "label"
PAD_VALUES = ("minimum", "mean", "otsu")


def parse_interpolation(value: object, what: str, *, label: bool = True) -> str:
    """A mode of :data:`ORDERS` (an int is its order; case ignored), or ``"label"``.

    Raises:
        ValueError: An unknown mode or order, or ``"label"`` where it is not allowed.
        TypeError: Neither a string nor an int.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < len(ORDERS):
            raise ValueError(f"Interpolation order {value} is not supported. Must be 0-7.")
        return ORDERS[value]
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string or int, got {type(value)}")
    lowered = value.lower()
    if lowered == LABEL and not label:
        raise ValueError(f'{what} cannot be "{LABEL}"')
    if lowered not in (*ORDERS, LABEL):
        raise ValueError(
            f'Interpolation "{lowered}" is not supported. Supported values are {(*ORDERS, LABEL)}'
        )
    return lowered


def serialize_space(space: Space | None) -> dict[str, Any] | None:
    """A space as plain data for the history (as TorchIO records it)."""
    if space is None:
        return None
    shape, affine = space
    return {"shape": list(shape), "affine": affine.numpy().tolist()}


def deserialize_space(data: dict[str, Any] | None) -> Space | None:
    if data is None:
        return None
    shape = data["shape"]
    return (int(shape[0]), int(shape[1]), int(shape[2])), AffineMatrix(
        np.asarray(data["affine"], dtype=np.float64)
    )


# -- output spaces ----------------------------------------------------------------------


def _spacing(value: Any) -> tuple[float, float, float]:
    if isinstance(value, int | float):
        spacing = (float(value),) * 3
    else:
        values = [float(v) for v in np.asarray(value, dtype=np.float64).flat]
        if len(values) != 3:
            raise ValueError(f"Spacing must have 3 values, got {len(values)}")
        spacing = (values[0], values[1], values[2])
    if any(v <= 0 for v in spacing):
        raise ValueError(f"Spacing must be strictly positive, got {spacing}")
    return (spacing[0], spacing[1], spacing[2])


def space_for_spacing(shape: tuple[int, int, int], affine: AffineMatrix, spacing: Any) -> Space:
    """The grid of voxel size ``spacing`` covering the same field of view, centred the same.

    Sizes are rounded down; axes of one voxel stay one voxel.
    """
    old_spacing = np.asarray(affine.spacing, dtype=np.float64)
    new_spacing = np.asarray(spacing, dtype=np.float64)
    old_shape = np.asarray(shape, dtype=np.float64)
    new_shape = np.floor(old_shape * old_spacing / new_spacing)
    new_shape[old_shape == 1] = 1
    direction = affine.direction.cpu().numpy()
    centre = np.asarray(affine.origin) + direction @ ((old_shape - 1) / 2 * old_spacing)
    matrix = np.eye(4)
    matrix[:3, :3] = direction * new_spacing
    matrix[:3, 3] = centre - direction @ ((new_shape - 1) / 2 * new_spacing)
    size = (int(new_shape[0]), int(new_shape[1]), int(new_shape[2]))
    return size, AffineMatrix(matrix)


def is_space_pair(target: object) -> bool:
    """``(shape, affine)``: a 2-tuple whose first item is not a number (``(2, 4)`` is a range)."""
    return isinstance(target, tuple) and len(target) == 2 and not isinstance(target[0], int | float)


def check_target(target: object) -> None:
    """Raise ``ValueError`` for a target of a type no rule accepts."""
    accepted = (int, float, tuple, list, np.ndarray, Choice, Distribution, str, Path, Image)
    if target is not None and not isinstance(target, accepted):
        raise ValueError(f'Target not understood: "{target}"')


def resolve_target(
    target: Any, subject: Subject, shape: tuple[int, int, int], affine: AffineMatrix
) -> Space | None:
    """The output grid of ``target`` for a subject whose first image is ``(shape, affine)``.

    Raises:
        ValueError: An unknown image name or file, or a bad spacing or shape.
    """
    if target is None:
        return None
    if isinstance(target, Image):
        return target.spatial_shape, target.affine.clone()
    if isinstance(target, str | Path):
        if Path(target).is_file():
            reference = ScalarImage(target)
            return reference.spatial_shape, reference.affine.clone()
        images = subject.images
        if isinstance(target, str) and target in images:
            return images[target].spatial_shape, images[target].affine.clone()
        raise ValueError(
            f'Unknown target "{target}". Pass a file path, an image name in the subject,'
            " an Image, or a spacing specification"
        )
    if is_space_pair(target):
        size, matrix = target
        if len(size) != 3:
            raise ValueError(f"Target shape must have length 3, got {len(size)}")
        return (int(size[0]), int(size[1]), int(size[2])), AffineMatrix(matrix)
    check_target(target)
    if isinstance(target, np.ndarray | int | float):
        spacing = _spacing(target)
    else:
        # A spacing, or a range/choice/distribution drawn once per application.
        spec = tuple(target) if isinstance(target, list) else target
        spacing = _spacing(_ParameterRange(spec).sample())
    return space_for_spacing(shape, affine, spacing)


# -- world-space motion -------------------------------------------------------------------


def _rotation(degrees: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``Rz @ Ry @ Rx`` of Euler angles in degrees (TorchIO's convention)."""
    # numpy's cos and sin, as TorchIO uses: libm's may differ in the last bit.
    cx, cy, cz = np.cos(np.radians(degrees))
    sx, sy, sz = np.sin(np.radians(degrees))
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]], dtype=np.float64)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]], dtype=np.float64)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]], dtype=np.float64)
    result: npt.NDArray[np.float64] = rz @ ry @ rx
    return result


def motion_matrix(
    scales: tuple[float, ...],
    degrees: tuple[float, ...],
    translation: tuple[float, ...],
    *,
    centre: str,
    shape: tuple[int, int, int],
    affine: AffineMatrix,
) -> npt.NDArray[np.float64]:
    """The 4 x 4 world-space motion: scale, rotate about the centre, translate (mm).

    For a single slice (last axis of one voxel), out-of-plane parts are dropped.
    """
    scaling = np.asarray(scales, dtype=np.float64)
    angles = np.asarray(degrees, dtype=np.float64)
    shift = np.asarray(translation, dtype=np.float64)
    if shape[-1] == 1:
        scaling[2], angles[0], angles[1], shift[2] = 1.0, 0.0, 0.0, 0.0
    linear = _rotation(angles) @ np.diag(scaling)
    matrix = np.eye(4)
    matrix[:3, :3] = linear
    if centre == "image":
        voxel_centre = (np.asarray(shape, dtype=np.float64) - 1) / 2
        m = affine.numpy()
        world_centre = m[:3, 3] + m[:3, :3] @ voxel_centre
        matrix[:3, 3] = world_centre - linear @ world_centre
    matrix[:3, 3] += shift
    return matrix


# -- sampling -----------------------------------------------------------------------------


def voxel_grid(
    input_space: Space,
    output_space: Space,
    motion: npt.NDArray[np.float64] | None,
    displacement: Tensor | None = None,
    *,
    affine_first: bool = True,
) -> Tensor:
    """``(I, J, K, 3)`` input voxel coordinates of each output voxel.

    Output voxel -> world (output affine) -> inverse motion -> input voxel.
    ``displacement`` (``(I, J, K, 3)`` in mm on the output grid) is added in
    input voxels after the mapping (``affine_first``) or in output voxels before it.
    """
    (_, in_affine), (out_shape, out_affine) = input_space, output_space
    inverse_motion = np.eye(4) if motion is None else np.linalg.inv(motion)
    mapping = np.linalg.inv(in_affine.numpy()) @ inverse_motion @ out_affine.numpy()
    matrix = torch.as_tensor(mapping, dtype=torch.float32)
    axes = [torch.arange(n, dtype=torch.float32) for n in out_shape]
    coordinates = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)

    def mapped(points: Tensor) -> Tensor:
        homogeneous = torch.nn.functional.pad(points, (0, 1), value=1.0)
        return (homogeneous @ matrix.T)[..., :3]

    if displacement is None:
        return mapped(coordinates)
    if affine_first:
        in_spacing = torch.as_tensor(in_affine.spacing, dtype=torch.float32)
        return mapped(coordinates) + displacement / in_spacing
    out_spacing = torch.as_tensor(out_affine.spacing, dtype=torch.float32)
    return mapped(coordinates + displacement / out_spacing)


def normalised_grid(voxels: Tensor, input_shape: tuple[int, int, int]) -> Tensor:
    """Voxel coordinates as grid_sample's ``(1, K, J, I, 3)`` grid in [-1, 1] (corners aligned)."""
    extent = torch.tensor([max(n - 1, 1) for n in input_shape], dtype=torch.float32)
    normalised = voxels.mul(2.0).div_(extent).sub_(1.0)  # 2 v / extent - 1, in place
    return normalised.permute(2, 1, 0, 3).unsqueeze(0)


def dense_displacement(control_points: Tensor, shape: tuple[int, int, int]) -> Tensor:
    """The ``(n_i, n_j, n_k, 3)`` control-point field upsampled trilinearly to ``shape``."""
    field = control_points.float().permute(3, 0, 1, 2).unsqueeze(0)
    dense = torch.nn.functional.interpolate(
        field, size=list(shape), mode="trilinear", align_corners=True
    )
    return dense[0].permute(1, 2, 3, 0)


def sample(data: Tensor, voxels: Tensor, grid: Tensor, mode: str, fill: float | Tensor) -> Tensor:
    """Sample ``(C, I, J, K)`` at ``voxels`` (``grid`` is the same, normalised for grid_sample).

    Nearest and linear: ``grid_sample``, with ``fill`` (a number or one per
    channel) outside the input. Orders 2-7: B-splines of ``torch-interpol``
    (mirrored borders, zeros outside; ``fill`` is not used, as in TorchIO).
    The result has ``data``'s dtype (sampled in float32).
    """
    order = ORDERS.index(mode)
    if order >= 2:
        interpol: Any = require(
            "interpol", "interpol", package="torch-interpol", purpose=(f"{mode} interpolation")
        )
        pulled = interpol.grid_pull(
            data.float().unsqueeze(0),
            voxels.to(data.device).unsqueeze(0),
            interpolation=order,
            bound="dct2",
            extrapolate=False,
            prefilter=True,
        )
        return pulled[0].to(data.dtype)  # type: ignore[no-any-return]
    volume = data.unsqueeze(0).permute(0, 1, 4, 3, 2).float()  # grid_sample wants (N, C, D, H, W)
    grid = grid.to(volume.device)
    torch_mode = "bilinear" if order == 1 else "nearest"
    sampled = torch.nn.functional.grid_sample(
        volume, grid, mode=torch_mode, padding_mode="zeros", align_corners=True
    )
    fill_value = _fill_tensor(fill, volume)
    if fill_value is not None:
        inside = torch.nn.functional.grid_sample(
            torch.ones_like(volume), grid, padding_mode="zeros", align_corners=True
        )
        sampled = torch.where(inside > 0.5, sampled, fill_value)
    return sampled.permute(0, 1, 4, 3, 2)[0].to(data.dtype)


def sample_labels(
    data: Tensor,
    voxels: Tensor,
    grid: Tensor,
    mode: str,
    fill: float,
    smooth: Callable[[Tensor], Tensor] | None,
) -> Tensor:
    """Partial-volume resampling of a label map (TorchIO's ``"label"`` mode).

    One channel: each label present becomes a channel of 0s and 1s, the
    channels are (smoothed and) resampled with ``mode``, and each voxel takes
    the label of the largest; voxels mostly outside the input get ``fill``.
    Several channels (already one-hot or probabilities) are resampled as they
    are, with zeros outside, as floats.
    """
    if data.shape[0] > 1:
        channels = data.float()
        if smooth is not None:
            channels = smooth(channels)
        sampled = sample(channels, voxels, grid, mode, 0.0)
        return sampled.to(data.dtype) if data.dtype.is_floating_point else sampled
    labels = torch.unique(data)
    one_hot = (data[0].unsqueeze(0) == labels.reshape(-1, 1, 1, 1)).float()
    if smooth is not None:
        one_hot = smooth(one_hot)
    sampled = sample(one_hot, voxels, grid, mode, 0.0)
    winners = labels[sampled.argmax(dim=0)]
    inside = sampled.sum(dim=0) > 0.5
    result = torch.where(inside, winners, torch.full_like(winners, fill))
    return result.unsqueeze(0).to(data.dtype)


def _fill_tensor(fill: float | Tensor, reference: Tensor) -> Tensor | None:
    if isinstance(fill, Tensor):
        return fill.to(reference).reshape(1, -1, 1, 1, 1)
    if float(fill) == 0.0:
        return None  # grid_sample pads with zeros already
    return torch.as_tensor(fill, dtype=reference.dtype, device=reference.device)


def fill_value(data: Tensor, rule: str | float) -> float | Tensor:
    """The value outside the input: a number, or per channel ``minimum``/``mean``/``otsu``."""
    if not isinstance(rule, str):
        return float(rule)
    return torch.as_tensor([_channel_fill(channel, rule) for channel in data], dtype=torch.float32)


def _channel_fill(channel: Tensor, rule: str) -> float:
    if rule == "minimum":
        return float(channel.min().item())
    faces = torch.cat(
        [
            channel[0].ravel(),
            channel[-1].ravel(),
            channel[:, 0].ravel(),
            channel[:, -1].ravel(),
            channel[:, :, 0].ravel(),
            channel[:, :, -1].ravel(),
        ]
    ).float()
    if rule == "otsu":
        below = faces[faces < _otsu_threshold(faces)]
        if below.numel():
            return float(below.mean().item())
    return float(faces.mean().item())


def _otsu_threshold(values: Tensor) -> float:
    """The value maximising the between-class variance when the sorted values split after it."""
    ordered32 = values.sort().values
    count = ordered32.numel()
    if count == 0:
        return 0.0
    ordered = ordered32.double()
    if count == 1:
        return float(ordered[0])
    # As TorchIO: the total in float32, the running sums in float64 (sequential).
    total = float(ordered32.sum().item())
    below = torch.arange(1, count, dtype=torch.float64)
    sums = torch.cumsum(ordered, 0)[:-1]
    mean_below = sums / below
    mean_above = (total - sums) / (count - below)
    variance = (below / count) * ((count - below) / count) * (mean_below - mean_above) ** 2
    best = int(torch.argmax(variance))
    if float(variance[best]) <= 0:
        return float(ordered[0])
    return float(ordered[best])


def antialias(data: Tensor, input_affine: AffineMatrix, output_affine: AffineMatrix) -> Tensor:
    """Gaussian smoothing of the axes being downsampled (Cardoso et al., MICCAI 2015)."""
    spacing = np.asarray(input_affine.spacing, dtype=np.float64)
    factors = np.asarray(output_affine.spacing, dtype=np.float64) / spacing
    sigmas = [0.0, 0.0, 0.0]
    for axis, k in enumerate(factors):
        if k > 1:
            variance = (k**2 - 1) * (2 * np.sqrt(2 * np.log(2))) ** (-2)
            # In mm, then in voxels: the same float operations as TorchIO.
            sigmas[axis] = float(spacing[axis] * np.sqrt(variance) / spacing[axis])
    return gaussian_smooth(data, (sigmas[0], sigmas[1], sigmas[2]))
