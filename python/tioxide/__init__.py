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
    from . import data, transforms
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
    from .loader import (
        ImagesLoader,
        StudiesLoader,
        SubjectsLoader,
        collate_images,
        collate_studies,
        collate_subjects,
    )
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
    "nifti",
    "transforms",
]


def __getattr__(name: str) -> Any:
    if name == "data":
        return importlib.import_module(".data", __name__)
    if name == "transforms":
        return importlib.import_module(".transforms", __name__)
    if name in _FROM_TRANSFORMS:
        value = getattr(importlib.import_module(".transforms", __name__), name)
        globals()[name] = value
        return value
    if name in _FROM_DATA:
        value = getattr(importlib.import_module(".data", __name__), name)
        globals()[name] = value
        return value
    if name in _FROM_LOADER:
        value = getattr(importlib.import_module(".loader", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
