"""Where voxels land on screen: orientation codes to display axes, and slice reads.

Every picture tioxide draws (the three plot views, GIF and video frames, the
HTML thumbnail) is a 2D array whose rows and columns run along named
anatomical directions. A *display code* says where an array axis points as its
index grows: a ``(row, col)`` of ``("P", "L")`` puts anterior at the top and
the patient's right on the left (the radiological axial view). Mapping an
image's own orientation codes onto those is a transpose and some flips, which
is all TorchIO's ``Reorient`` does for a non-oblique image, without resampling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ..data.image import Image

#: The anatomical pair each orientation code belongs to.
PAIR: dict[str, str] = {"R": "LR", "L": "LR", "A": "AP", "P": "AP", "S": "SI", "I": "SI"}
OPPOSITE: dict[str, str] = {"R": "L", "L": "R", "A": "P", "P": "A", "S": "I", "I": "S"}
NAME: dict[str, str] = {
    "R": "Right",
    "L": "Left",
    "A": "Anterior",
    "P": "Posterior",
    "S": "Superior",
    "I": "Inferior",
}
#: Which world (RAS+) coordinate a code runs along.
WORLD_DIM: dict[str, int] = {"R": 0, "L": 0, "A": 1, "P": 1, "S": 2, "I": 2}


@dataclass(frozen=True)
class View:
    """One orthogonal view: the pair it cuts across and where its rows and columns point."""

    name: str
    slice_pair: str
    row_code: str
    col_code: str


# Radiological convention, as TorchIO plots: patient's right on the screen's
# left in coronal and axial views, anterior on the left in the sagittal one,
# superior (or anterior, axially) at the top.
VIEWS: tuple[View, ...] = (
    View("Sagittal", "LR", row_code="I", col_code="P"),
    View("Coronal", "AP", row_code="I", col_code="L"),
    View("Axial", "SI", row_code="P", col_code="L"),
)

#: Sweep direction of an animation -> (frame, row, col) display codes, as in
#: TorchIO's ``to_gif``/``to_video`` (which reorient to "IPL", "SPL", ...).
SWEEPS: dict[str, tuple[str, str, str]] = {
    "I": ("I", "P", "L"),
    "S": ("S", "P", "L"),
    "A": ("A", "I", "L"),
    "P": ("P", "I", "L"),
    "R": ("R", "I", "P"),
    "L": ("L", "I", "P"),
}


def orientation_of(image: Image) -> tuple[str, str, str]:
    """The image's orientation codes, refusing affines with an axis of no clear direction."""
    codes = tuple(image.orientation)
    if any(code not in PAIR for code in codes) or len({PAIR[c] for c in codes}) != 3:
        raise ValueError(
            f"Cannot display an image whose axes have no clear anatomical direction "
            f"(orientation {codes}); fix its affine first"
        )
    return (codes[0], codes[1], codes[2])


def axis_of(orientation: tuple[str, str, str], pair: str) -> int:
    """The voxel axis (0, 1 or 2) that runs along an anatomical pair ("LR", "AP", "SI")."""
    for axis, code in enumerate(orientation):
        if PAIR[code] == pair:
            return axis
    raise ValueError(f"No axis of orientation {orientation} runs along {pair}")


def sweep_codes(direction: str) -> tuple[str, str, str]:
    """The (frame, row, col) display codes of an animation direction."""
    key = direction.upper() if isinstance(direction, str) else direction
    if key not in SWEEPS:
        raise ValueError(f"direction must be one of {', '.join(SWEEPS)}, got {direction!r}")
    return SWEEPS[key]


def arrange(
    array: npt.NDArray[Any], codes: tuple[str, ...], targets: tuple[str, ...]
) -> npt.NDArray[Any]:
    """Transpose and flip the trailing axes of ``array`` from ``codes`` to ``targets``.

    ``codes[n]`` says where trailing axis ``n`` points now; after the call,
    trailing axis ``n`` points towards ``targets[n]``. Leading axes (channels)
    are kept.

    Args:
        array: At least ``len(codes)`` dimensions.
        codes: Current direction of each trailing axis.
        targets: Wanted direction of each trailing axis (same pairs as ``codes``).
    """
    lead = array.ndim - len(codes)
    source_axes = []
    for target in targets:
        matches = [n for n, code in enumerate(codes) if PAIR[code] == PAIR[target]]
        if len(matches) != 1:
            raise ValueError(f"Cannot arrange axes {codes} as {targets}")
        source_axes.append(matches[0])
    order = list(range(lead)) + [lead + n for n in source_axes]
    out = array.transpose(order)
    flips = [lead + t for t, n in enumerate(source_axes) if codes[n] != targets[t]]
    return np.flip(out, axis=tuple(flips)) if flips else out


def read_plane(image: Image, channel: int, axis: int, index: int) -> npt.NDArray[Any]:
    """One channel of one slice as a 2D array (the other two voxel axes, in order).

    An image not yet loaded reads only that slice from its file (image
    indexing reads regions), so plotting a large file costs three slices.
    """
    if not 0 <= index < image.spatial_shape[axis]:
        raise IndexError(
            f"Slice index {index} is out of range for axis {'ijk'[axis]} of size "
            f"{image.spatial_shape[axis]}"
        )
    item: list[int | slice] = [channel, slice(None), slice(None), slice(None)]
    item[axis + 1] = index
    region = image[tuple(item)]
    plane = region.data[0].cpu().numpy()
    return np.asarray(np.take(plane, 0, axis=axis))


def view_plane(
    image: Image,
    view: View,
    channel: int,
    indices: tuple[int, int, int],
    orientation: tuple[str, str, str],
) -> npt.NDArray[Any]:
    """The 2D array of a view, rows and columns in display order."""
    axis = axis_of(orientation, view.slice_pair)
    plane = read_plane(image, channel, axis, indices[axis])
    codes = tuple(code for n, code in enumerate(orientation) if n != axis)
    return np.ascontiguousarray(arrange(plane, codes, (view.row_code, view.col_code)))


def check_channel(image: Image, channel: int) -> int:
    """``channel`` as a non-negative index, or an IndexError naming the channel count."""
    count = image.num_channels
    if not -count <= channel < count:
        raise IndexError(f"channel {channel} is out of range for an image of {count} channel(s)")
    return channel % count


def resolve_indices(
    image: Image,
    indices: tuple[int | None, int | None, int | None] | None,
    coordinates: tuple[float | None, float | None, float | None] | None,
) -> tuple[int, int, int]:
    """Slice indices from ``indices`` or world ``coordinates`` (mm); mid-slices where None."""
    if indices is not None and coordinates is not None:
        raise ValueError("indices and coordinates are mutually exclusive")
    shape = image.spatial_shape
    chosen: list[int | None] = [None, None, None]
    if indices is not None:
        if len(indices) != 3:
            raise ValueError(f"indices must have 3 values (i, j, k), got {len(indices)}")
        chosen = [None if v is None else int(v) for v in indices]
    elif coordinates is not None:
        if len(coordinates) != 3:
            raise ValueError(f"coordinates must have 3 values (x, y, z), got {len(coordinates)}")
        orientation = orientation_of(image)
        # Unspecified world coordinates are taken at the image centre, so an
        # oblique image still maps the given ones to the right voxels.
        centre = [(n - 1) / 2 for n in shape]
        centre_world = image.affine.apply(np.array([centre])).numpy()[0]
        point = [centre_world[d] if c is None else float(c) for d, c in enumerate(coordinates)]
        voxel = image.affine.inverse().apply(np.array([point])).numpy()[0]
        for axis, code in enumerate(orientation):
            if coordinates[WORLD_DIM[code]] is not None:
                chosen[axis] = round(float(voxel[axis]))
    resolved = tuple(
        n // 2 if v is None else (v + n if v < 0 else v) for v, n in zip(chosen, shape, strict=True)
    )
    return (resolved[0], resolved[1], resolved[2])


def axis_coordinates(
    image: Image,
    orientation: tuple[str, str, str],
    axis: int,
    target: str,
    *,
    voxels: bool,
) -> tuple[float, float]:
    """First value and step of a display axis's coordinate, per displayed pixel.

    In voxel mode the coordinate is the voxel index; otherwise it is the world
    coordinate (mm, RAS+) along the direction the axis runs, measured from the
    origin along the voxel axis (exact for non-oblique images, as TorchIO's
    tick labels).
    """
    size = image.spatial_shape[axis]
    flipped = orientation[axis] != target
    first_voxel = size - 1 if flipped else 0
    voxel_step = -1.0 if flipped else 1.0
    if voxels:
        return float(first_voxel), voxel_step
    code = orientation[axis]
    sign = 1.0 if code in "RAS" else -1.0
    origin = image.origin[WORLD_DIM[code]]
    spacing = image.spacing[axis]
    return origin + first_voxel * spacing * sign, voxel_step * spacing * sign
