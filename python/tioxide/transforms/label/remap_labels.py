"""``RemapLabels``: change label values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...data.image import LabelMap
from ...data.subject import Subject
from ..transform import Transform, replace_image


class RemapLabels(Transform):
    """Replace label ``old`` with ``remapping[old]`` in every label map.

    All replacements look at the original values, so ``{1: 2, 2: 1}`` swaps.

    Args:
        remapping: Old label to new label.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        TypeError: ``remapping`` is not a mapping.
    """

    def __init__(self, remapping: Mapping[int, int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(remapping, Mapping):
            raise TypeError(f"remapping must be a dict of old to new labels, got {remapping!r}")
        self.remapping = dict(remapping)

    def make_params(self, subject: Subject) -> dict[str, Any]:
        return {"remapping": self.remapping}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in subject.images.items():
            if isinstance(image, LabelMap):
                original = image.data
                data = original.clone()
                for old, new in params["remapping"].items():
                    data[original == old] = new
                replace_image(subject, name, image.new_like(data=data))
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> RemapLabels:
        """The reversed mapping (exact when it is one-to-one)."""
        return RemapLabels({new: old for old, new in params["remapping"].items()}, copy=False)
