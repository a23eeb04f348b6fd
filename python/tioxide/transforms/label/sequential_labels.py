"""``SequentialLabels``: renumber the labels of each label map 0, 1, 2 ..."""

from __future__ import annotations

from typing import Any

import torch

from ...data.image import LabelMap
from ...data.subject import Subject
from ..transform import Transform, replace_image


def _remap(subject: Subject, remappings: dict[str, dict[int, int]]) -> Subject:
    for name, image in subject.images.items():
        if name in remappings:
            original = image.data
            data = torch.zeros_like(original)
            for old, new in remappings[name].items():
                data[original == old] = new
            replace_image(subject, name, image.new_like(data=data))
    return subject


class SequentialLabels(Transform):
    """Renumber the labels present in each label map as 0, 1, 2 ... in increasing order.

    Args:
        **kwargs: See :class:`~tioxide.transforms.Transform`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def make_params(self, subject: Subject) -> dict[str, Any]:
        remappings = {}
        for name, image in subject.images.items():
            if isinstance(image, LabelMap):
                present = sorted(int(v) for v in torch.unique(image.data).tolist())
                remappings[name] = {old: new for new, old in enumerate(present)}
        return {"remappings": remappings}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        return _remap(subject, params["remappings"])

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> _SequentialLabelsInverse:
        """The original labels back."""
        return _SequentialLabelsInverse(remappings=params["remappings"], copy=False)


class _SequentialLabelsInverse(Transform):
    def __init__(self, *, remappings: dict[str, dict[int, int]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._remappings = {
            name: {new: old for old, new in remapping.items()}
            for name, remapping in remappings.items()
        }

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        return _remap(subject, self._remappings)
