"""``Points``: a set of 3D coordinates with an axis convention and an affine."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .affine import AffineMatrix
from .axes import AxesType, axes_type, get_axis_mapping, validate_axes

_Self = TypeVar("_Self", bound="Points")


def parse_affine(affine: AffineMatrix | npt.ArrayLike | None) -> AffineMatrix:
    """An :class:`AffineMatrix` (kept, not copied), the identity for ``None``."""
    if affine is None:
        return AffineMatrix()
    if isinstance(affine, AffineMatrix):
        return affine
    return AffineMatrix(affine)


def parse_coordinates(data: Tensor | npt.ArrayLike, columns: int, what: str) -> Tensor:
    """An ``(N, columns)`` tensor: tensors are kept, anything else becomes float32.

    Raises:
        ValueError: The data has another shape.
    """
    if not isinstance(data, Tensor):
        data = torch.as_tensor(np.asarray(data), dtype=torch.float32)
    if data.ndim != 2 or data.shape[1] != columns:
        raise ValueError(f"{what} must have shape (N, {columns}), got {tuple(data.shape)}")
    return data


def permute_and_flip(
    data: Tensor, perm: tuple[int, int, int], flips: tuple[bool, bool, bool]
) -> Tensor:
    """Reorder the three columns of ``data`` and negate the flipped ones (a new tensor)."""
    result = data[:, list(perm)]
    for column, flip in enumerate(flips):
        if flip:
            result[:, column] = -result[:, column]
    return result


class Points:
    """``N`` points in 3D: an ``(N, 3)`` tensor, the axes its columns follow, and an affine.

    Coordinates are voxel indices (``axes`` a permutation of ``"IJK"``) or
    world millimetres along anatomical axes (``"RAS"``, ``"LPS"`` ...); the
    affine maps voxel ``IJK`` to the world and is used to convert between the
    two families.

    Args:
        data: ``(N, 3)`` coordinates. A tensor is kept as is; anything else
            becomes a float32 tensor.
        axes: The axis convention of the columns.
        affine: Voxel-to-world 4 x 4 affine; the identity if omitted.
        metadata: Free-form metadata (copied).

    Raises:
        ValueError: ``data`` is not ``(N, 3)``, ``axes`` is not a valid
            convention, or the affine is not 4 x 4.

    Examples:
        >>> import torch, tioxide as tio
        >>> affine = torch.diag(torch.tensor([2.0, 2.0, 2.0, 1.0]))
        >>> points = tio.Points(torch.tensor([[1.0, 2.0, 3.0]]), affine=affine)
        >>> points.to_axes("LPS").data
        tensor([[-2., -4.,  6.]])
    """

    def __init__(
        self,
        data: Tensor | npt.ArrayLike,
        *,
        axes: str = "IJK",
        affine: AffineMatrix | npt.ArrayLike | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._data = parse_coordinates(data, 3, "Points")
        self._axes = validate_axes(axes)
        self._affine = parse_affine(affine)
        self._metadata: dict[str, Any] = dict(metadata) if metadata else {}

    @property
    def data(self) -> Tensor:
        """The ``(N, 3)`` coordinates."""
        return self._data

    @property
    def axes(self) -> str:
        """The axis convention of the columns, e.g. ``'IJK'`` or ``'RAS'``."""
        return self._axes

    @property
    def affine(self) -> AffineMatrix:
        """The voxel-to-world affine."""
        return self._affine

    @property
    def metadata(self) -> dict[str, Any]:
        """Free-form metadata."""
        return self._metadata

    @property
    def num_points(self) -> int:
        """``N``."""
        return int(self._data.shape[0])

    @property
    def device(self) -> torch.device:
        """The device of the coordinates."""
        return self._data.device

    def to(self: _Self, *args: Any, **kwargs: Any) -> _Self:
        """Move or cast the coordinates as ``torch.Tensor.to`` does; returns ``self``."""
        self._data = self._data.to(*args, **kwargs)
        return self

    def to_world(self) -> Tensor:
        """The coordinates mapped through the affine, as float32.

        The columns are taken as ``IJK`` whatever ``axes`` says, as in TorchIO.
        """
        return self._affine.apply(self._data).to(torch.float32)

    def to_axes(self: _Self, target: str) -> _Self:
        """The same points in another axis convention (a new object).

        Conventions of the same family are a column permutation (plus sign
        flips for anatomical ones); voxel and anatomical conventions are
        converted through the affine, whose orientation is the world's.

        Raises:
            ValueError: ``target`` is not a valid axis string.
        """
        target = validate_axes(target)
        if target == self._axes:
            return self._clone(axes=target)
        if axes_type(self._axes) is axes_type(target):
            perm, flips = get_axis_mapping(self._axes, target)
            converted = permute_and_flip(self._data, perm, flips)
        elif axes_type(self._axes) is AxesType.VOXEL:
            converted = self._voxel_to_world(target)
        else:
            converted = self._world_to_voxel(target)
        return self._clone(data=converted, axes=target)

    def _voxel_to_world(self, target: str) -> Tensor:
        data = self._data
        if self._axes != "IJK":
            perm, _ = get_axis_mapping(self._axes, "IJK")
            data = data[:, list(perm)]
        world = self._affine.apply(data).to(torch.float32)
        world_axes = "".join(self._affine.orientation)
        if world_axes != target:
            world = permute_and_flip(world, *get_axis_mapping(world_axes, target))
        return world

    def _world_to_voxel(self, target: str) -> Tensor:
        data = self._data
        world_axes = "".join(self._affine.orientation)
        if self._axes != world_axes:
            data = permute_and_flip(data, *get_axis_mapping(self._axes, world_axes))
        ijk = self._affine.inverse().apply(data).to(torch.float32)
        if target != "IJK":
            perm, _ = get_axis_mapping("IJK", target)
            ijk = ijk[:, list(perm)]
        return ijk

    def new_like(
        self: _Self,
        *,
        data: Tensor | npt.ArrayLike,
        affine: AffineMatrix | npt.ArrayLike | None = None,
    ) -> _Self:
        """New points with these axes and metadata, and ``affine`` or a copy of this one."""
        new_affine = self._affine.clone() if affine is None else parse_affine(affine)
        return type(self)(data, axes=self._axes, affine=new_affine, metadata=dict(self._metadata))

    def _clone(self: _Self, *, data: Tensor | None = None, axes: str | None = None) -> _Self:
        return type(self)(
            self._data.clone() if data is None else data,
            axes=self._axes if axes is None else axes,
            affine=self._affine.clone(),
            metadata=dict(self._metadata),
        )

    def __len__(self) -> int:
        return self.num_points

    def __repr__(self) -> str:
        return f"Points(num_points={self.num_points}, axes={self._axes!r})"

    def __deepcopy__(self: _Self, memo: dict[int, Any]) -> _Self:
        new = self._clone()
        memo[id(self)] = new
        return new
