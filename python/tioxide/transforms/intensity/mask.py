"""``Mask``: set intensities outside a mask to a value."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ...data.image import LabelMap
from ...data.subject import Subject
from ..transform import IntensityTransform, replace_image


class Mask(IntensityTransform):
    """Replace the voxels of scalar images outside a mask with ``outside_value``.

    Args:
        masking_method: The name of a :class:`~tioxide.LabelMap` of the subject
            (its nonzero voxels, or those with one of ``labels``), or a function
            of the first scalar image's tensor returning the mask.
        outside_value: The value outside the mask.
        labels: With a label map, the labels that make the mask.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        TypeError: A masking method that is neither a name nor callable.
    """

    def __init__(
        self,
        *,
        masking_method: str | Callable[[Tensor], Tensor] = "brain",
        outside_value: float = 0.0,
        labels: Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(masking_method, str) and not callable(masking_method):
            raise TypeError(f"masking_method must be a str or callable, got {type(masking_method)}")
        self.masking_method = masking_method
        self.outside_value = outside_value
        self.labels = None if labels is None else list(labels)

    def _mask(self, subject: Subject, images: dict[str, Any]) -> Tensor:
        if not isinstance(self.masking_method, str):
            first = next(iter(images.values()))
            return self.masking_method(first.data).bool()
        available = subject.images
        if self.masking_method not in available:
            raise KeyError(
                f'Masking method "{self.masking_method}" not found in subject images.'
                f" Available: {list(available)}"
            )
        label_map = available[self.masking_method]
        if not isinstance(label_map, LabelMap):
            raise TypeError(f'Masking method "{self.masking_method}" must refer to a LabelMap.')
        labels = label_map.data
        if self.labels is None:
            return labels.bool()
        mask = torch.zeros_like(labels, dtype=torch.bool)
        for label in self.labels:
            mask |= labels == label
        return mask

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        images = self._get_images(subject)
        if not images:
            return subject
        mask = self._mask(subject, images)
        for name, image in images.items():
            masked = torch.where(mask.expand_as(image.data), image.data, self.outside_value)
            replace_image(subject, name, image.new_like(data=masked))
        return subject
