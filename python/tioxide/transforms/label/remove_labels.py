"""``RemoveLabels``: set some labels to the background."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...data.image import LabelMap
from ...data.subject import Subject
from ..transform import Transform, replace_image


class RemoveLabels(Transform):
    """Replace the given labels with ``background_label`` in every label map.

    Args:
        labels: The labels to remove.
        background_label: The value they get.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        TypeError: ``labels`` is not an iterable of labels.
    """

    def __init__(self, labels: Iterable[int], *, background_label: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(labels, str) or not isinstance(labels, Iterable):
            raise TypeError(f"labels must be a sequence of labels, got {labels!r}")
        self.labels = list(labels)
        self.background_label = background_label

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in subject.images.items():
            if isinstance(image, LabelMap):
                original = image.data
                data = original.clone()
                for label in self.labels:
                    data[original == label] = self.background_label
                replace_image(subject, name, image.new_like(data=data))
        return subject
