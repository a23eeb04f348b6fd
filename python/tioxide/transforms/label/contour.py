"""``Contour``: the boundary voxels of label maps."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...data.image import LabelMap
from ...data.subject import Subject
from ..transform import Transform, replace_image


def contour(data: Tensor) -> Tensor:
    """1.0 where a voxel differs from the minimum of its 3 x 3 x 3 neighbourhood, else 0.0.

    Outside the volume counts as -1, so label voxels on the border are contour.
    """
    values = data.float()
    padded = torch.nn.functional.pad(values, [1] * 6, mode="constant", value=-1)
    eroded = -torch.nn.functional.max_pool3d(-padded, kernel_size=3, stride=1, padding=0)
    return (eroded != values).float()


class Contour(Transform):
    """Replace each label map with its contour (a float map of 0s and 1s).

    Args:
        **kwargs: See :class:`~tioxide.transforms.Transform`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in subject.images.items():
            if isinstance(image, LabelMap):
                replace_image(subject, name, image.new_like(data=contour(image.data)))
        return subject
