"""TorchIO-compatible data classes: images, their affines, annotations, subjects, backends.

Importing this package imports torch.
"""

from __future__ import annotations

from .affine import AffineMatrix
from .aggregator import PatchAggregator
from .backends import (
    BackendRequest,
    ImageDataBackend,
    LazyReader,
    register_backend,
    resolve_backend,
    unregister_backend,
)
from .batch import ImagesBatch, StudiesBatch, SubjectsBatch
from .bboxes import BoundingBoxes, BoundingBoxFormat, Representation
from .image import Image, LabelMap, ScalarImage
from .patch import PatchLocation
from .points import Points
from .queue import Queue
from .sampler import GridSampler, LabelSampler, PatchSampler, UniformSampler, WeightedSampler
from .subject import Study, Subject

__all__ = [
    "AffineMatrix",
    "BackendRequest",
    "BoundingBoxFormat",
    "BoundingBoxes",
    "GridSampler",
    "Image",
    "ImageDataBackend",
    "ImagesBatch",
    "LabelMap",
    "LabelSampler",
    "LazyReader",
    "PatchAggregator",
    "PatchLocation",
    "PatchSampler",
    "Points",
    "Queue",
    "Representation",
    "ScalarImage",
    "StudiesBatch",
    "Study",
    "Subject",
    "SubjectsBatch",
    "UniformSampler",
    "WeightedSampler",
    "register_backend",
    "resolve_backend",
    "unregister_backend",
]
