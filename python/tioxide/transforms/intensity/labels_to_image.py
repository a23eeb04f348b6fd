"""``LabelsToImage``: synthesise an intensity image from a label map (Gaussian per label)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ...data.image import Image, LabelMap, ScalarImage
from ...data.subject import Subject
from ..parameter_range import to_range
from ..transform import Transform


class LabelsToImage(Transform):
    """Add a scalar image whose voxels of each label follow a Gaussian of drawn mean and std.

    Args:
        label_key: The label map to use; the first label map if ``None``.
        image_key: The name of the new image.
        mean: Per label (in increasing label order), a mean or a range to draw it from.
        std: Per label, a standard deviation or a range.
        default_mean: For labels without ``mean``.
        default_std: For labels without ``std`` (its absolute value is used).
        ignore_background: Label 0 stays 0.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        KeyError: (when applied) ``label_key`` is not an image, or there is no label map.
    """

    _PER_INSTANCE_PARAMS = True

    def __init__(
        self,
        label_key: str | None = None,
        *,
        image_key: str = "image_from_labels",
        mean: Sequence[Any] | None = None,
        std: Sequence[Any] | None = None,
        default_mean: Any = (0.1, 0.9),
        default_std: Any = (0.01, 0.1),
        ignore_background: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.label_key = label_key
        self.image_key = image_key
        self.mean_ranges = None if mean is None else [to_range(m) for m in mean]
        self.std_ranges = None if std is None else [to_range(s) for s in std]
        self.default_mean = to_range(default_mean)
        self.default_std = to_range(default_std)
        self.ignore_background = ignore_background

    def _labels(self, subject: Subject) -> Image:
        images = subject.images
        if self.label_key is not None:
            if self.label_key not in images:
                raise KeyError(f"Label key '{self.label_key}' not found. Available: {list(images)}")
            return images[self.label_key]
        for image in images.values():
            if isinstance(image, LabelMap):
                return image
        raise KeyError("No LabelMap found in the subject")

    def make_params(self, subject: Subject) -> dict[str, Any]:
        present = sorted(int(v) for v in torch.unique(self._labels(subject).data).tolist())
        means: dict[int, float] = {}
        stds: dict[int, float] = {}
        for index, label in enumerate(present):
            if self.ignore_background and label == 0:
                means[label] = stds[label] = 0.0
                continue
            if self.mean_ranges is not None and index < len(self.mean_ranges):
                means[label] = self.mean_ranges[index].sample_1d()
            else:
                means[label] = self.default_mean.sample_1d()
            if self.std_ranges is not None and index < len(self.std_ranges):
                stds[label] = self.std_ranges[index].sample_1d()
            else:
                stds[label] = abs(self.default_std.sample_1d())
        return {"means": means, "stds": stds}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        labels = self._labels(subject)
        data = labels.data
        result = torch.zeros(1, *data.shape[1:], device=data.device)
        for label, mean in params["means"].items():
            std = params["stds"].get(label, 0.0)
            if mean == 0.0 and std == 0.0:
                continue
            inside = (data[0:1] == label).float()
            result += (torch.randn_like(result) * std + mean) * inside
        subject._images[self.image_key] = ScalarImage(result, affine=labels.affine.clone())
        return subject
