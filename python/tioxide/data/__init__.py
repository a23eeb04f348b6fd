"""TorchIO-compatible data classes: images, their affines, annotations and subjects.

Importing this package imports torch.
"""

from __future__ import annotations

from .affine import AffineMatrix
from .bboxes import BoundingBoxes, BoundingBoxFormat, Representation
from .image import Image, LabelMap, ScalarImage
from .points import Points
from .subject import Study, Subject

__all__ = [
    "AffineMatrix",
    "BoundingBoxFormat",
    "BoundingBoxes",
    "Image",
    "LabelMap",
    "Points",
    "Representation",
    "ScalarImage",
    "Study",
    "Subject",
]
