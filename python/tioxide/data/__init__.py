"""TorchIO-compatible data classes: images and their affines.

Importing this package imports torch.
"""

from __future__ import annotations

from .affine import AffineMatrix
from .image import Image, LabelMap, ScalarImage

__all__ = ["AffineMatrix", "Image", "LabelMap", "ScalarImage"]
