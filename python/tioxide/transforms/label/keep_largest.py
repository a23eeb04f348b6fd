"""``KeepLargestComponent``: keep the largest connected component of each label."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ...data.image import LabelMap
from ...data.sitk_backend import import_sitk
from ...data.subject import Subject
from ..transform import Transform, replace_image


def keep_largest(
    labels: Tensor, only: list[int] | None, background: int, fully_connected: bool
) -> Tensor:
    """A ``(I, J, K)`` label volume with all but the largest component of each label cleared."""
    sitk: Any = import_sitk()
    result = labels.clone()
    chosen = only
    if chosen is None:
        chosen = [int(v) for v in torch.unique(labels).tolist() if int(v) != background]
    for label in chosen:
        binary = (labels == label).cpu().numpy().astype(np.uint8)
        if not binary.any():
            continue
        components = sitk.ConnectedComponent(sitk.GetImageFromArray(binary), fully_connected)
        ranked = sitk.GetArrayFromImage(sitk.RelabelComponent(components, sortByObjectSize=True))
        result[torch.from_numpy(ranked >= 2).to(labels.device)] = background
    return result


class KeepLargestComponent(Transform):
    """In each label map, clear (to the background) all but the largest component of each label.

    Needs SimpleITK (``pip install tioxide[sitk]``).

    Args:
        labels: The labels to clean; all but the background if ``None``.
        background_label: The value cleared voxels get.
        fully_connected: Voxels touching by an edge or corner are connected too.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        RuntimeError: (when applied) a label map with several channels.
    """

    def __init__(
        self,
        labels: Sequence[int] | None = None,
        *,
        background_label: int = 0,
        fully_connected: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.labels = None if labels is None else list(labels)
        self.background_label = background_label
        self.fully_connected = fully_connected

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in subject.images.items():
            if not isinstance(image, LabelMap):
                continue
            if image.num_channels != 1:
                raise RuntimeError(
                    "KeepLargestComponent requires single-channel label maps,"
                    f" got {image.num_channels} channels"
                )
            cleaned = keep_largest(
                image.data[0], self.labels, self.background_label, self.fully_connected
            )
            replace_image(subject, name, image.new_like(data=cleaned.unsqueeze(0)))
        return subject
