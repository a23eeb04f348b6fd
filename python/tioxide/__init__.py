"""tioxide: a faster, drop-in replacement for TorchIO's image data layer.

The NIfTI/ANALYZE reading and writing happens in a Rust core; the low-level,
nibabel-like interface to it is :mod:`tioxide.nifti`. The TorchIO-compatible
classes (``ScalarImage``, ``LabelMap``, ``Image``, ``AffineMatrix``, ``Subject``,
``Points``, ``BoundingBoxes`` ...) live in
:mod:`tioxide.data`, the transforms (``Flip``, ``CropOrPad`` ...) in
:mod:`tioxide.transforms`. Both are available here too and are imported on
first use, so ``import tioxide`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import nifti
from ._core import __version__
from .exceptions import (
    CorruptGzipError,
    InvalidHeaderError,
    NiftiError,
    TruncatedFileError,
    UnsupportedDatatypeError,
)

if TYPE_CHECKING:
    from importlib.metadata import version as version

    from . import data, datasets, transforms
    from . import download as download
    from . import external as external
    from . import io as io
    from . import loader as loader
    from . import logging as logging
    from . import types as types
    from .data import (
        AffineMatrix,
        BoundingBoxes,
        BoundingBoxFormat,
        GridSampler,
        Image,
        ImagesBatch,
        LabelMap,
        LabelSampler,
        PatchAggregator,
        PatchLocation,
        PatchSampler,
        Points,
        Queue,
        Representation,
        ScalarImage,
        StudiesBatch,
        Study,
        Subject,
        SubjectsBatch,
        UniformSampler,
        WeightedSampler,
    )
    from .io import read_matrix, write_matrix
    from .loader import (
        ImagesLoader,
        StudiesLoader,
        SubjectsLoader,
        collate_images,
        collate_studies,
        collate_subjects,
    )
    from .logging import enable_logging
    from .transforms import (
        PCA,
        Affine,
        Anisotropy,
        AppliedTransform,
        BiasField,
        Blur,
        Choice,
        Clamp,
        Compose,
        Contour,
        CopyAffine,
        CornucopiaAdapter,
        Crop,
        CropOrPad,
        ElasticDeformation,
        EnsureShapeMultiple,
        Flip,
        Gamma,
        Ghosting,
        HistogramStandardization,
        IntensityTransform,
        KeepLargestComponent,
        LabelsToImage,
        Lambda,
        Mask,
        MonaiAdapter,
        Motion,
        Noise,
        Normalize,
        OneHot,
        OneOf,
        Pad,
        RemapLabels,
        RemoveLabels,
        Reorient,
        Resample,
        RescaleIntensity,
        Resize,
        SequentialLabels,
        SomeOf,
        Spatial,
        SpatialTransform,
        Spike,
        Standardize,
        Swap,
        To,
        ToReferenceSpace,
        Transform,
        Transpose,
        ZNormalization,
        apply_inverse_transform,
    )
    from .types import (
        TypeAffineMatrix,
        TypeDirection,
        TypeImageData,
        TypeOrientationCodes,
        TypeOrigin,
        TypePath,
        TypeSpacing,
        TypeSpatialShape,
        TypeTensorShape,
        TypeWorldPoints,
    )

# Names imported from tioxide.data on first access (PEP 562).
_FROM_DATA = frozenset(
    {
        "AffineMatrix",
        "BoundingBoxFormat",
        "BoundingBoxes",
        "GridSampler",
        "Image",
        "ImagesBatch",
        "LabelMap",
        "LabelSampler",
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
    }
)

# Names imported from tioxide.loader on first access.
_FROM_LOADER = frozenset(
    {
        "ImagesLoader",
        "StudiesLoader",
        "SubjectsLoader",
        "collate_images",
        "collate_studies",
        "collate_subjects",
    }
)

# Names imported from tioxide.transforms on first access (they import torch too).
_FROM_TRANSFORMS = frozenset(
    {
        "Affine",
        "Anisotropy",
        "AppliedTransform",
        "BiasField",
        "Blur",
        "Choice",
        "Clamp",
        "Compose",
        "Contour",
        "CopyAffine",
        "CornucopiaAdapter",
        "Crop",
        "CropOrPad",
        "ElasticDeformation",
        "EnsureShapeMultiple",
        "Flip",
        "Gamma",
        "Ghosting",
        "HistogramStandardization",
        "IntensityTransform",
        "KeepLargestComponent",
        "LabelsToImage",
        "Lambda",
        "Mask",
        "MonaiAdapter",
        "Motion",
        "Noise",
        "Normalize",
        "OneHot",
        "OneOf",
        "PCA",
        "Pad",
        "RemapLabels",
        "RemoveLabels",
        "Reorient",
        "Resample",
        "RescaleIntensity",
        "Resize",
        "SequentialLabels",
        "SomeOf",
        "Spatial",
        "SpatialTransform",
        "Spike",
        "Standardize",
        "Swap",
        "To",
        "ToReferenceSpace",
        "Transform",
        "Transpose",
        "ZNormalization",
        "apply_inverse_transform",
    }
)

# TorchIO's type aliases (tioxide.types imports torch).
_FROM_TYPES = frozenset(
    {
        "TypeAffineMatrix",
        "TypeDirection",
        "TypeImageData",
        "TypeOrientationCodes",
        "TypeOrigin",
        "TypePath",
        "TypeSpacing",
        "TypeSpatialShape",
        "TypeTensorShape",
        "TypeWorldPoints",
    }
)

# Name -> module it is imported from on first access.
_LAZY: dict[str, str] = {
    **dict.fromkeys(_FROM_DATA, ".data"),
    **dict.fromkeys(_FROM_LOADER, ".loader"),
    **dict.fromkeys(_FROM_TRANSFORMS, ".transforms"),
    **dict.fromkeys(_FROM_TYPES, ".types"),
    "read_matrix": ".io",
    "write_matrix": ".io",
    "enable_logging": ".logging",
}

# Submodules reachable as attributes, as TorchIO's are.
_SUBMODULES = frozenset(
    {
        "data",
        "datasets",
        "download",
        "external",
        "io",
        "loader",
        "logging",
        "transforms",
        "types",
        "visualization",
    }
)

__all__ = [
    "Affine",
    "AffineMatrix",
    "Anisotropy",
    "AppliedTransform",
    "BiasField",
    "Blur",
    "BoundingBoxFormat",
    "BoundingBoxes",
    "Choice",
    "Clamp",
    "Compose",
    "Contour",
    "CopyAffine",
    "CornucopiaAdapter",
    "CorruptGzipError",
    "Crop",
    "CropOrPad",
    "ElasticDeformation",
    "EnsureShapeMultiple",
    "Flip",
    "Gamma",
    "Ghosting",
    "GridSampler",
    "HistogramStandardization",
    "Image",
    "ImagesBatch",
    "ImagesLoader",
    "IntensityTransform",
    "InvalidHeaderError",
    "KeepLargestComponent",
    "LabelMap",
    "LabelSampler",
    "LabelsToImage",
    "Lambda",
    "Mask",
    "MonaiAdapter",
    "Motion",
    "NiftiError",
    "Noise",
    "Normalize",
    "OneHot",
    "OneOf",
    "PCA",
    "Pad",
    "PatchAggregator",
    "PatchLocation",
    "PatchSampler",
    "Points",
    "Queue",
    "RemapLabels",
    "RemoveLabels",
    "Reorient",
    "Representation",
    "Resample",
    "RescaleIntensity",
    "Resize",
    "ScalarImage",
    "SequentialLabels",
    "SomeOf",
    "Spatial",
    "SpatialTransform",
    "Spike",
    "Standardize",
    "StudiesBatch",
    "StudiesLoader",
    "Study",
    "Subject",
    "SubjectsBatch",
    "SubjectsLoader",
    "Swap",
    "To",
    "ToReferenceSpace",
    "Transform",
    "Transpose",
    "TruncatedFileError",
    "TypeAffineMatrix",
    "TypeDirection",
    "TypeImageData",
    "TypeOrientationCodes",
    "TypeOrigin",
    "TypePath",
    "TypeSpacing",
    "TypeSpatialShape",
    "TypeTensorShape",
    "TypeWorldPoints",
    "UnsupportedDatatypeError",
    "UniformSampler",
    "WeightedSampler",
    "ZNormalization",
    "__version__",
    "apply_inverse_transform",
    "collate_images",
    "collate_studies",
    "collate_subjects",
    "data",
    "datasets",
    "enable_logging",
    "nifti",
    "read_matrix",
    "transforms",
    "write_matrix",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "version":  # TorchIO's namespace has importlib.metadata's
        from importlib.metadata import version

        return version
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
