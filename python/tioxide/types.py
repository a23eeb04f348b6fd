"""Type aliases under TorchIO 2's names (``torchio.types``), for annotations
in code written for TorchIO.

The tensor aliases carry their shape when jaxtyping is installed (as TorchIO's
do); without it they are plain ``torch.Tensor``, which annotates the same
values.
"""

from __future__ import annotations

import os
from typing import Any, TypeAlias

from torch import Tensor

TypePath: TypeAlias = str | os.PathLike[str]

TypeThreeInts: TypeAlias = tuple[int, int, int]
TypeFourInts: TypeAlias = tuple[int, int, int, int]
TypeSixInts: TypeAlias = tuple[int, int, int, int, int, int]
TypeThreeFloats: TypeAlias = tuple[float, float, float]
TypeSpatialShape: TypeAlias = TypeThreeInts
TypeTensorShape: TypeAlias = TypeFourInts
TypeSpacing: TypeAlias = TypeThreeFloats
TypeOrigin: TypeAlias = TypeThreeFloats
TypeOrientationCodes: TypeAlias = tuple[str, str, str]

#: What a backend's ``__getitem__`` takes.
SliceIndex: TypeAlias = int | slice | tuple[int | slice, ...]


def _float_tensor(shape: str) -> Any:
    """A float tensor of ``shape`` (jaxtyping's notation), or ``Tensor``."""
    try:
        from jaxtyping import Float
    except ImportError:
        return Tensor
    return Float[Tensor, shape]


TypeImageData: Any = _float_tensor("channels size_i size_j size_k")
TypeAffineMatrix: Any = _float_tensor("4 4")
TypeDirection: Any = _float_tensor("3 3")
TypeWorldPoints: Any = _float_tensor("num_points 3")

__all__ = [
    "SliceIndex",
    "TypeAffineMatrix",
    "TypeDirection",
    "TypeFourInts",
    "TypeImageData",
    "TypeOrientationCodes",
    "TypeOrigin",
    "TypePath",
    "TypeSixInts",
    "TypeSpacing",
    "TypeSpatialShape",
    "TypeTensorShape",
    "TypeThreeFloats",
    "TypeThreeInts",
    "TypeWorldPoints",
]
