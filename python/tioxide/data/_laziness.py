"""Whether a transform can run on unloaded images without reading their voxels.

Crops, pads, flips, axis permutations and affine changes of an image that is
not loaded build a lazy view of its file (see
``tioxide.transforms.spatial._view``); a patch of that view then reads only
the patch. Every other transform reads the voxels it changes, and a subject
for such a transform is loaded first, as TorchIO's queue does.
"""

from __future__ import annotations

from typing import Any


def stays_lazy(transform: Any) -> bool:
    """Whether ``transform`` (``None`` or a composition of them too) reads no voxels.

    Only the exact built-in classes count: a subclass may override how it
    applies and need the data.
    """
    if transform is None:
        return True
    from ..transforms.compose import _Composition

    if isinstance(transform, _Composition):
        return all(stays_lazy(child) for child in transform.transforms)
    return type(transform) in _lazy_classes()


def _lazy_classes() -> frozenset[type]:
    # Imported here: the transforms package imports this data package.
    from .. import transforms as t

    return frozenset(
        {
            t.Crop,
            t.Pad,
            t.CropOrPad,
            t.EnsureShapeMultiple,
            t.Flip,
            t.Transpose,
            t.Reorient,
            t.CopyAffine,
            t.ToReferenceSpace,
        }
    )
