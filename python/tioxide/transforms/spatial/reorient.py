"""``Reorient``: permute and flip the voxel axes to a given orientation (e.g. RAS)."""

from __future__ import annotations

from typing import Any

import torch

from ...data.orientation import axis_directions
from ...data.subject import Subject
from ..transform import SpatialTransform, first_image, replace_image
from . import _ops

# Orientation letter -> (world axis, sense) in RAS+.
_CODES = {"R": (0, 1), "L": (0, -1), "A": (1, 1), "P": (1, -1), "S": (2, 1), "I": (2, -1)}


def _parse_orientation(orientation: object) -> str:
    if not isinstance(orientation, str) or len(orientation) != 3:
        raise ValueError(f'Orientation must be a 3-letter string, got "{orientation}"')
    codes = orientation.upper()
    if any(c not in _CODES for c in codes):
        raise ValueError(
            "Orientation code must be composed of three distinct characters in RLAPIS"
            f' but got "{orientation}"'
        )
    if len({_CODES[c][0] for c in codes}) != 3:
        raise ValueError(
            "Orientation code must include one character for each axis direction: R or L,"
            f' A or P, and S or I, but got "{orientation}"'
        )
    return codes


def reorientation(affine: torch.Tensor, target: str) -> list[list[float]]:
    """nibabel's ``ornt_transform`` from the affine's orientation to ``target``.

    Row ``v`` is ``[t, ±1]``: voxel axis ``v`` becomes axis ``t``, flipped if -1.

    Raises:
        ValueError: The affine has an axis without a clear direction.
    """
    wanted = {_CODES[c][0]: (t, _CODES[c][1]) for t, c in enumerate(target)}
    rows = []
    for v, direction in enumerate(axis_directions(affine.numpy())):
        if direction is None:
            raise ValueError(f"Voxel axis {v} of the affine has no direction: cannot reorient")
        world, sense = direction
        axis, wanted_sense = wanted[world]
        rows.append([float(axis), 1.0 if sense == wanted_sense else -1.0])
    return rows


def _codes(affine: torch.Tensor) -> str:
    from ...data.orientation import axis_codes

    return "".join(code or "?" for code in axis_codes(affine.numpy()))


class Reorient(SpatialTransform):
    """Reorder and flip voxel axes so that the images have the given orientation.

    Voxels keep their world positions: the affine changes with the data. The
    orientation is taken from the first image.

    Args:
        orientation: Three letters, one of each pair R/L, A/P, S/I (case ignored).
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: An invalid orientation code.
    """

    def __init__(self, orientation: str = "RAS", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.orientation = _parse_orientation(orientation)

    def make_params(self, subject: Subject) -> dict[str, Any]:
        affine = first_image(subject, self).affine.data.cpu()
        return {
            "ornt": reorientation(affine, self.orientation),
            "original_orientation": _codes(affine),
        }

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        ornt = [(int(axis), int(sense)) for axis, sense in params["ornt"]]
        if all(axis == v and sense == 1 for v, (axis, sense) in enumerate(ornt)):
            return subject
        flips = tuple(v for v, (_, sense) in enumerate(ornt) if sense < 0)
        order = [0, 0, 0]
        for v, (axis, _) in enumerate(ornt):
            order[axis] = v
        for name, image in self._get_images(subject).items():
            shape = image.spatial_shape
            # Output voxel t along axis order[t] maps back to input voxel (n - 1 - t) if flipped.
            to_input = torch.zeros(4, 4, dtype=torch.float64)
            to_input[3, 3] = 1
            for v, (axis, sense) in enumerate(ornt):
                to_input[v, axis] = sense
                if sense < 0:
                    to_input[v, 3] = shape[v] - 1
            affine = image.affine.data @ to_input.to(image.affine.data.device)
            flipped = _ops.flip(image, flips) if flips else image
            replace_image(
                subject, name, _ops.permute(flipped, (order[0], order[1], order[2]), affine)
            )
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> Reorient:
        """Reorienting back to the recorded original orientation."""
        return Reorient(orientation=params["original_orientation"], copy=False)
