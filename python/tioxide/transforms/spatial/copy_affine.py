"""``CopyAffine``: give every image the affine of one of them."""

from __future__ import annotations

from typing import Any

from ...data.subject import Subject
from ..transform import SpatialTransform, replace_image
from . import _ops


class CopyAffine(SpatialTransform):
    """Copy the affine of image ``target`` to the other images (their voxels are kept).

    Useful when images of one subject should share a space but their headers
    differ by rounding.

    Args:
        target: The name of the image whose affine is copied.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        TypeError: ``target`` is not a string.
        KeyError: (when applied) the subject has no image ``target``.
    """

    def __init__(self, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(target, str):
            raise TypeError(f"target must be the name of an image, got {type(target).__name__}")
        self.target = target

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        images = subject.images
        if self.target not in images:
            raise KeyError(f"Reference image '{self.target}' not found. Available: {list(images)}")
        reference = images[self.target].affine.data
        for name, image in images.items():
            if name != self.target:
                replace_image(subject, name, _ops.with_affine(image, reference.clone()))
        return subject
