"""TorchIO-compatible data classes: images, their affines, annotations, subjects, backends.

Importing this package imports torch.
"""

from __future__ import annotations

from .affine import AffineMatrix
from .backends import (
    BackendRequest,
    ImageDataBackend,
    LazyReader,
    register_backend,
    resolve_backend,
    unregister_backend,
)
from .bboxes import BoundingBoxes, BoundingBoxFormat, Representation
from .image import Image, LabelMap, ScalarImage
from .points import Points
from .subject import Study, Subject

__all__ = [
    "AffineMatrix",
    "BackendRequest",
    "BoundingBoxFormat",
    "BoundingBoxes",
    "Image",
    "ImageDataBackend",
    "LabelMap",
    "LazyReader",
    "Points",
    "Representation",
    "ScalarImage",
    "Study",
    "Subject",
    "register_backend",
    "resolve_backend",
    "unregister_backend",
]
