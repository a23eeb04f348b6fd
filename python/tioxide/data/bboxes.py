"""``BoundingBoxes``: 3D boxes whose six numbers follow a ``BoundingBoxFormat``.

A format is an axis convention (see :mod:`.axes`) plus a representation: two
opposite corners, or a centre and a size. Conversions go through corners:
reordering columns, flipping anatomical directions, or mapping corners through
the affine (voxel <-> world), keeping each box's low corner below its high one.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .affine import AffineMatrix
from .axes import AxesType, axes_type, get_axis_mapping, validate_axes
from .points import parse_affine, parse_coordinates

_Self = TypeVar("_Self", bound="BoundingBoxes")

_NO_FLIPS = (False, False, False)


class Representation(Enum):
    """What the six numbers of a box are."""

    #: Two opposite corners ``(a1, b1, c1, a2, b2, c2)``.
    CORNERS = "corners"
    #: Centre and size ``(ac, bc, cc, sa, sb, sc)``.
    CENTER_SIZE = "center_size"


class BoundingBoxFormat:
    """An axis convention and a :class:`Representation`; hashable, compared by value.

    Args:
        axes: A voxel (``"IJK"``, ``"KJI"`` ...) or anatomical (``"RAS"`` ...)
            axis string.
        representation: A :class:`Representation` or its value
            (``"corners"``, ``"center_size"``).

    Raises:
        ValueError: An invalid axis string or representation name.

    Examples:
        >>> BoundingBoxFormat("RAS", "center_size")
        BoundingBoxFormat(axes='RAS', representation='center_size')
    """

    IJKIJK: ClassVar[BoundingBoxFormat]
    IJKWHD: ClassVar[BoundingBoxFormat]

    __slots__ = ("_axes", "_representation")

    def __init__(
        self, axes: str, representation: Representation | str = Representation.CORNERS
    ) -> None:
        self._axes = validate_axes(axes)
        self._representation = Representation(representation)

    @property
    def axes(self) -> str:
        """The axis convention."""
        return self._axes

    @property
    def representation(self) -> Representation:
        """Corners or centre and size."""
        return self._representation

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BoundingBoxFormat):
            return NotImplemented
        return (self._axes, self._representation) == (other._axes, other._representation)

    def __hash__(self) -> int:
        return hash((self._axes, self._representation))

    def __repr__(self) -> str:
        return (
            f"BoundingBoxFormat(axes={self._axes!r}, representation={self._representation.value!r})"
        )


BoundingBoxFormat.IJKIJK = BoundingBoxFormat("IJK", Representation.CORNERS)
BoundingBoxFormat.IJKWHD = BoundingBoxFormat("IJK", Representation.CENTER_SIZE)


def corners_to_center_size(data: Tensor) -> Tensor:
    """``(N, 6)`` corners to centres and sizes."""
    low, high = data[:, :3], data[:, 3:]
    return torch.cat([(low + high) / 2, high - low], dim=-1)


def center_size_to_corners(data: Tensor) -> Tensor:
    """``(N, 6)`` centres and sizes to corners."""
    center, size = data[:, :3], data[:, 3:]
    return torch.cat([center - size / 2, center + size / 2], dim=-1)


def permute_corners(
    data: Tensor, perm: tuple[int, int, int], flips: tuple[bool, bool, bool]
) -> Tensor:
    """Reorder and flip the columns of ``(N, 6)`` corners, keeping low before high."""
    low = data[:, :3][:, list(perm)]
    high = data[:, 3:][:, list(perm)]
    for column, flip in enumerate(flips):
        if flip:
            a, b = -low[:, column], -high[:, column]
            low[:, column], high[:, column] = torch.min(a, b), torch.max(a, b)
    return torch.cat([low, high], dim=-1)


def _map_corners(data: Tensor, affine: AffineMatrix) -> Tensor:
    a = affine.apply(data[:, :3]).to(torch.float32)
    b = affine.apply(data[:, 3:]).to(torch.float32)
    return torch.cat([torch.min(a, b), torch.max(a, b)], dim=-1)


class BoundingBoxes:
    """``N`` boxes in 3D: an ``(N, 6)`` tensor, its format, optional labels and an affine.

    Args:
        data: ``(N, 6)`` boxes. A tensor is kept as is; anything else becomes
            a float32 tensor.
        format: How to read the six numbers (keyword-only, required).
        labels: One label per box, or ``None``.
        affine: Voxel-to-world 4 x 4 affine; the identity if omitted.
        metadata: Free-form metadata (copied).

    Raises:
        ValueError: ``data`` is not ``(N, 6)``, the number of labels is not
            ``N``, or the affine is not 4 x 4.
        TypeError: ``format`` is not a :class:`BoundingBoxFormat`.

    Examples:
        >>> import torch, tioxide as tio
        >>> boxes = tio.BoundingBoxes(
        ...     torch.tensor([[0.0, 0.0, 0.0, 4.0, 2.0, 2.0]]), format=tio.BoundingBoxFormat.IJKIJK
        ... )
        >>> boxes.to_format(tio.BoundingBoxFormat.IJKWHD).data
        tensor([[2., 1., 1., 4., 2., 2.]])
    """

    def __init__(
        self,
        data: Tensor | npt.ArrayLike,
        *,
        format: BoundingBoxFormat,
        labels: Tensor | npt.ArrayLike | None = None,
        affine: AffineMatrix | npt.ArrayLike | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(format, BoundingBoxFormat):
            raise TypeError(
                f"format must be a BoundingBoxFormat, got {type(format).__name__}; "
                "e.g. BoundingBoxFormat('IJK', 'corners')"
            )
        self._data = parse_coordinates(data, 6, "BoundingBoxes")
        self._format = format
        self._labels = _parse_labels(labels, int(self._data.shape[0]))
        self._affine = parse_affine(affine)
        self._metadata: dict[str, Any] = dict(metadata) if metadata else {}

    @property
    def data(self) -> Tensor:
        """The ``(N, 6)`` boxes."""
        return self._data

    @property
    def format(self) -> BoundingBoxFormat:
        """How to read the six numbers of a box."""
        return self._format

    @property
    def labels(self) -> Tensor | None:
        """One label per box, or ``None``."""
        return self._labels

    @property
    def affine(self) -> AffineMatrix:
        """The voxel-to-world affine."""
        return self._affine

    @property
    def metadata(self) -> dict[str, Any]:
        """Free-form metadata."""
        return self._metadata

    @property
    def num_boxes(self) -> int:
        """``N``."""
        return int(self._data.shape[0])

    @property
    def device(self) -> torch.device:
        """The device of the boxes."""
        return self._data.device

    def to(self: _Self, *args: Any, **kwargs: Any) -> _Self:
        """Move or cast boxes and labels as ``torch.Tensor.to`` does; returns ``self``."""
        self._data = self._data.to(*args, **kwargs)
        if self._labels is not None:
            self._labels = self._labels.to(*args, **kwargs)
        return self

    def to_format(self: _Self, format: BoundingBoxFormat) -> _Self:
        """The same boxes in another format (a new object).

        Raises:
            TypeError: ``format`` is not a :class:`BoundingBoxFormat`.
        """
        if not isinstance(format, BoundingBoxFormat):
            raise TypeError(f"format must be a BoundingBoxFormat, got {type(format).__name__}")
        if format == self._format:
            return self._clone(format=format)
        data = self._data
        if self._format.representation is Representation.CENTER_SIZE:
            data = center_size_to_corners(data)
        src, tgt = self._format.axes, format.axes
        if src != tgt:
            if axes_type(src) is axes_type(tgt):
                data = permute_corners(data, *get_axis_mapping(src, tgt))
            elif axes_type(src) is AxesType.VOXEL:
                data = self._voxel_to_world(data, src, tgt)
            else:
                data = self._world_to_voxel(data, src, tgt)
        if format.representation is Representation.CENTER_SIZE:
            data = corners_to_center_size(data)
        return self._clone(data=data, format=format)

    def _voxel_to_world(self, data: Tensor, src: str, tgt: str) -> Tensor:
        if src != "IJK":
            data = permute_corners(data, get_axis_mapping(src, "IJK")[0], _NO_FLIPS)
        data = _map_corners(data, self._affine)
        world = "".join(self._affine.orientation)
        if world != tgt:
            data = permute_corners(data, *get_axis_mapping(world, tgt))
        return data

    def _world_to_voxel(self, data: Tensor, src: str, tgt: str) -> Tensor:
        world = "".join(self._affine.orientation)
        if src != world:
            data = permute_corners(data, *get_axis_mapping(src, world))
        data = _map_corners(data, self._affine.inverse())
        if tgt != "IJK":
            data = permute_corners(data, get_axis_mapping("IJK", tgt)[0], _NO_FLIPS)
        return data

    def new_like(
        self: _Self,
        *,
        data: Tensor | npt.ArrayLike,
        labels: Tensor | npt.ArrayLike | None = None,
        affine: AffineMatrix | npt.ArrayLike | None = None,
    ) -> _Self:
        """New boxes in this format with this metadata; labels are not carried over."""
        new_affine = self._affine.clone() if affine is None else parse_affine(affine)
        return type(self)(
            data,
            format=self._format,
            labels=labels,
            affine=new_affine,
            metadata=dict(self._metadata),
        )

    def _clone(
        self: _Self, *, data: Tensor | None = None, format: BoundingBoxFormat | None = None
    ) -> _Self:
        return type(self)(
            self._data.clone() if data is None else data,
            format=self._format if format is None else format,
            labels=None if self._labels is None else self._labels.clone(),
            affine=self._affine.clone(),
            metadata=dict(self._metadata),
        )

    def __len__(self) -> int:
        return self.num_boxes

    def __repr__(self) -> str:
        return (
            f"BoundingBoxes(num_boxes={self.num_boxes}, axes={self._format.axes!r},"
            f" representation={self._format.representation.value!r})"
        )

    def __deepcopy__(self: _Self, memo: dict[int, Any]) -> _Self:
        new = self._clone()
        memo[id(self)] = new
        return new


def _parse_labels(labels: Tensor | npt.ArrayLike | None, count: int) -> Tensor | None:
    if labels is None:
        return None
    if not isinstance(labels, Tensor):
        labels = torch.as_tensor(np.asarray(labels))
    if labels.ndim == 0 or labels.shape[0] != count:
        got = "a scalar" if labels.ndim == 0 else str(labels.shape[0])
        raise ValueError(f"Expected {count} labels, got {got}")
    return labels
