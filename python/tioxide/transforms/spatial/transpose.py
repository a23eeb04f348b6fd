"""``Transpose``: swap the first and last spatial axes."""

from __future__ import annotations

from typing import Any

from ...data.subject import Subject
from ..transform import SpatialTransform, replace_image
from . import _ops


class Transpose(SpatialTransform):
    """Swap spatial axes ``I`` and ``K`` of every image, and the matching affine columns.

    As in TorchIO, every image is transposed (``include``/``exclude`` are not
    consulted), so that the subject stays consistent.

    Args:
        **kwargs: See :class:`~tioxide.transforms.Transform`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in subject.images.items():
            affine = image.affine.data.clone()
            affine[:, [0, 2]] = affine[:, [2, 0]]
            replace_image(subject, name, _ops.permute(image, (2, 1, 0), affine))
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> Transpose:
        """A transpose is its own inverse."""
        return Transpose(copy=False)
