"""Anatomical orientation codes of an affine, by nibabel's rules.

TorchIO reports orientations with ``nibabel.aff2axcodes``. This module gives
the same answers without importing nibabel: the voxel-to-world block is
normalised column by column, replaced by the nearest orthogonal matrix (from
its SVD), and every voxel axis is then matched to the world axis it moves
along most, the most clear-cut voxel axes first. Each world axis is used at
most once; an axis that maps to nothing gets ``None``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

#: Labels of the negative and positive ends of the world axes x, y and z (RAS+).
LABELS: tuple[tuple[str, str], ...] = (("L", "R"), ("P", "A"), ("I", "S"))


def axis_directions(affine: npt.ArrayLike) -> list[tuple[int, int] | None]:
    """Which world axis each voxel axis runs along, and in which sense.

    Args:
        affine: A ``(q + 1, p + 1)`` affine from ``p`` voxel axes to ``q``
            world axes, usually ``4 x 4``.

    Returns:
        One entry per voxel axis: ``(world_axis, +1 or -1)``, or ``None`` when
        the axis has no clear world direction (for example a zero column).
    """
    matrix: npt.NDArray[Any] = np.asarray(affine)
    rzs = matrix[:-1, :-1]
    norms = np.sqrt(np.sum(rzs * rzs, axis=0))
    norms[norms == 0] = 1
    rotation_scale = rzs / norms
    left, singular, right = np.linalg.svd(rotation_scale, full_matrices=False)
    tolerance = singular.max() * max(rotation_scale.shape) * np.finfo(singular.dtype).eps
    kept = singular > tolerance
    nearest = left[:, kept] @ right[kept]
    # Voxel axes whose strongest component is largest are the least ambiguous.
    order = np.argsort(np.min(-(nearest**2), axis=0), kind="stable")
    result: list[tuple[int, int] | None] = [None] * rzs.shape[1]
    for voxel_axis in order:
        column = nearest[:, voxel_axis]
        if np.allclose(column, 0):
            continue
        world_axis = int(np.argmax(np.abs(column)))
        result[voxel_axis] = (world_axis, -1 if column[world_axis] < 0 else 1)
        nearest[world_axis, :] = 0
    return result


def axis_codes(affine: npt.ArrayLike) -> tuple[str | None, ...]:
    """Orientation codes such as ``('R', 'A', 'S')`` for each voxel axis.

    Args:
        affine: A voxel-to-world affine (RAS+ world), usually ``4 x 4``.

    Returns:
        For each voxel axis, the label of the world direction it points to,
        or ``None`` where there is none (as ``nibabel.aff2axcodes``).
    """
    codes: list[str | None] = []
    for direction in axis_directions(affine):
        if direction is None:
            codes.append(None)
        else:
            world_axis, sense = direction
            codes.append(LABELS[world_axis][1 if sense > 0 else 0])
    return tuple(codes)
