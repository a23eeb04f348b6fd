"""Transforms with TorchIO 2's names and behaviour (importing this imports torch).

Everything here is also available from the top-level package
(``tioxide.Compose`` ...), as in TorchIO.
"""

from __future__ import annotations

from .compose import Compose, OneOf, SomeOf
from .history import AppliedTransform
from .inverse import apply_inverse_transform, get_inverse_transform
from .lambda_transform import Lambda
from .parameter_range import Choice
from .to import To
from .transform import IntensityTransform, SpatialTransform, Transform

__all__ = [
    "AppliedTransform",
    "Choice",
    "Compose",
    "IntensityTransform",
    "Lambda",
    "OneOf",
    "SomeOf",
    "SpatialTransform",
    "To",
    "Transform",
    "apply_inverse_transform",
    "get_inverse_transform",
]
