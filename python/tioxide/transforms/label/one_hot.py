"""``OneHot``: one channel per label."""

from __future__ import annotations

from typing import Any

import torch

from ...data.image import LabelMap
from ...data.subject import Subject
from ..transform import Transform, replace_image


class OneHot(Transform):
    """Turn each label map into one float channel per class (from its first channel).

    Args:
        num_classes: Number of classes; ``-1`` uses the largest label plus one.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: ``num_classes`` is not -1 or a positive int.
    """

    def __init__(self, *, num_classes: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, int)
            or (num_classes != -1 and num_classes < 1)
        ):
            raise ValueError(f"num_classes must be -1 or a positive int, got {num_classes!r}")
        self.num_classes = num_classes

    def make_params(self, subject: Subject) -> dict[str, Any]:
        return {"num_classes": self.num_classes}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in subject.images.items():
            if isinstance(image, LabelMap):
                labels = image.data[0].long()
                encoded = torch.nn.functional.one_hot(labels, num_classes=params["num_classes"])
                replace_image(
                    subject, name, image.new_like(data=encoded.permute(3, 0, 1, 2).float())
                )
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> _OneHotInverse:
        """The channel with the largest value, as a float label map."""
        return _OneHotInverse(copy=False)


class _OneHotInverse(Transform):
    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in subject.images.items():
            if isinstance(image, LabelMap) and image.num_channels > 1:
                labels = image.data.argmax(dim=0, keepdim=True).float()
                replace_image(subject, name, image.new_like(data=labels))
        return subject
