"""The voxel-to-world affine of an image, as a float64 tensor with named views."""

from __future__ import annotations

import contextlib
import math
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from .orientation import axis_codes


class AffineMatrix:
    """A 4 x 4 matrix mapping voxel indices to world (RAS+) coordinates, in mm.

    The matrix is kept as a float64 ``torch.Tensor`` so that it can follow the
    image to another device. Spacing, origin, direction, orientation and Euler
    angles are derived from it; ``@`` composes two affines.

    Args:
        matrix: Anything convertible to a 4 x 4 array (a tensor, an array, nested
            lists, another ``AffineMatrix``), or ``None`` for the identity.

    Raises:
        ValueError: The matrix is not 4 x 4.

    Examples:
        >>> AffineMatrix().orientation
        ('R', 'A', 'S')
        >>> AffineMatrix.from_spacing((2.0, 2.0, 3.0)).spacing
        (2.0, 2.0, 3.0)
    """

    __slots__ = ("_matrix",)

    def __init__(self, matrix: AffineMatrix | Tensor | npt.ArrayLike | None = None) -> None:
        if matrix is None:
            self._matrix = torch.eye(4, dtype=torch.float64)
        elif isinstance(matrix, AffineMatrix):
            self._matrix = matrix._matrix.clone()
        elif isinstance(matrix, Tensor):
            _check_shape(tuple(matrix.shape))
            self._matrix = matrix.to(torch.float64).clone()
        else:
            array = np.array(matrix, dtype=np.float64)
            _check_shape(array.shape)
            self._matrix = torch.from_numpy(array)

    @classmethod
    def from_spacing(
        cls,
        spacing: tuple[float, float, float],
        *,
        origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
        direction: npt.ArrayLike | Tensor | None = None,
    ) -> AffineMatrix:
        """Build an affine from voxel size, world origin and direction cosines.

        Args:
            spacing: Voxel size in mm along each voxel axis.
            origin: World coordinates of the centre of the first voxel.
            direction: 3 x 3 matrix whose columns are the directions of the
                voxel axes; identity if omitted.

        Returns:
            The affine ``[[direction * spacing, origin], [0, 0, 0, 1]]``.
        """
        matrix = torch.eye(4, dtype=torch.float64)
        if direction is not None:
            if isinstance(direction, Tensor):
                block = direction.to(torch.float64)
            else:
                block = torch.as_tensor(np.asarray(direction, dtype=np.float64))
            matrix[:3, :3] = block
        matrix[:3, :3] *= torch.as_tensor(spacing, dtype=torch.float64)
        matrix[:3, 3] = torch.as_tensor(origin, dtype=torch.float64)
        return cls(matrix)

    @property
    def data(self) -> Tensor:
        """The 4 x 4 float64 tensor itself (not a copy)."""
        return self._matrix

    @property
    def device(self) -> torch.device:
        """Device holding the matrix."""
        return self._matrix.device

    def _column_norms(self) -> Tensor:
        block = self._matrix[:3, :3]
        return torch.sqrt(torch.sum(block**2, dim=0))

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm: the lengths of the first three columns."""
        norms = self._column_norms()
        return (float(norms[0]), float(norms[1]), float(norms[2]))

    @property
    def origin(self) -> tuple[float, float, float]:
        """World coordinates of the centre of the first voxel."""
        translation = self._matrix[:3, 3]
        return (float(translation[0]), float(translation[1]), float(translation[2]))

    @property
    def direction(self) -> Tensor:
        """3 x 3 direction cosines: the first three columns divided by the spacing."""
        return self._matrix[:3, :3] / self._column_norms()

    @property
    def orientation(self) -> tuple[str, str, str]:
        """Orientation codes of the voxel axes, e.g. ``('R', 'A', 'S')``.

        A degenerate axis (no clear world direction) gets ``None``, as in nibabel.
        """
        codes = axis_codes(self._matrix.cpu().numpy())
        return cast(tuple[str, str, str], (codes[0], codes[1], codes[2]))

    @property
    def euler_angles(self) -> tuple[float, float, float]:
        """Rotation angles in degrees about x, y and z (intrinsic XYZ).

        All zero when the voxel axes are aligned with the world axes.
        """
        r = self.direction
        cos_y = torch.sqrt(r[0, 0] ** 2 + r[1, 0] ** 2)
        y = torch.atan2(-r[2, 0], cos_y)
        if float(cos_y) >= 1e-6:
            x = torch.atan2(r[2, 1], r[2, 2])
            z = torch.atan2(r[1, 0], r[0, 0])
        else:  # gimbal lock: z is arbitrary, fold it into x
            x = torch.atan2(-r[1, 2], r[1, 1])
            z = torch.zeros(1, dtype=r.dtype, device=r.device)
        degrees = 180.0 / math.pi
        return (float(x * degrees), float(y * degrees), float(z * degrees))

    def to(self, *args: Any, **kwargs: Any) -> AffineMatrix:
        """Move the matrix as ``torch.Tensor.to`` would, then back to float64.

        A dtype argument therefore rounds the values to that dtype (TorchIO
        does the same). Devices that cannot hold float64 leave the matrix as it
        was.

        Returns:
            ``self``, changed in place.
        """
        with contextlib.suppress(TypeError):
            self._matrix = self._matrix.to(*args, **kwargs).to(torch.float64)
        return self

    def clone(self) -> AffineMatrix:
        """A copy that shares no memory with this one."""
        return AffineMatrix(self._matrix)

    def inverse(self) -> AffineMatrix:
        """The world-to-voxel affine."""
        return AffineMatrix(torch.linalg.inv(self._matrix))

    def compose(self, other: AffineMatrix) -> AffineMatrix:
        """The product ``self @ other`` (apply ``other`` first)."""
        return AffineMatrix(self._matrix @ other._matrix)

    def apply(self, points: Tensor | npt.ArrayLike) -> Tensor:
        """Map an ``(N, 3)`` set of points through the affine.

        Args:
            points: Voxel coordinates, shape ``(N, 3)``.

        Returns:
            World coordinates as a float64 tensor of shape ``(N, 3)``.
        """
        if isinstance(points, Tensor):
            coords = points.to(torch.float64)
        else:
            coords = torch.as_tensor(np.asarray(points, dtype=np.float64))
        coords = coords.to(self._matrix.device)
        ones = torch.ones(coords.shape[0], 1, dtype=torch.float64, device=coords.device)
        homogeneous = torch.cat([coords, ones], dim=1)
        return (self._matrix @ homogeneous.T).T[:, :3]

    def numpy(self) -> npt.NDArray[np.float64]:
        """The matrix as a numpy array (shares memory when on the CPU)."""
        return cast("npt.NDArray[np.float64]", self._matrix.cpu().numpy())

    def __matmul__(self, other: object) -> AffineMatrix:
        if not isinstance(other, AffineMatrix):
            return NotImplemented
        return self.compose(other)

    def __array__(
        self, dtype: npt.DTypeLike | None = None, copy: bool | None = None
    ) -> npt.NDArray[Any]:
        array = self.numpy()
        if dtype is not None:
            return np.array(array, dtype=dtype, copy=copy)
        return array.copy() if copy else array

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AffineMatrix):
            return NotImplemented
        return torch.equal(self._matrix, other._matrix)

    def __repr__(self) -> str:
        spacing = ", ".join(f"{s:.2f}" for s in self.spacing)
        origin = ", ".join(f"{o:.2f}" for o in self.origin)
        codes = "".join(str(code) for code in self.orientation)
        return f"AffineMatrix(spacing=({spacing}), origin=({origin}), orientation={codes}+)"

    def __copy__(self) -> AffineMatrix:
        return self.clone()

    def __deepcopy__(self, memo: dict[int, Any]) -> AffineMatrix:
        duplicate = self.clone()
        memo[id(self)] = duplicate
        return duplicate

    def __getstate__(self) -> Tensor:
        return self._matrix

    def __setstate__(self, state: Tensor) -> None:
        self._matrix = state


def _check_shape(shape: tuple[int, ...]) -> None:
    if shape != (4, 4):
        raise ValueError(f"AffineMatrix must be 4x4, got {shape}")
