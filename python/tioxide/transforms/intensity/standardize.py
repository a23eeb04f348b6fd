"""``Standardize`` (``ZNormalization``): zero mean and unit standard deviation."""

from __future__ import annotations

import warnings
from typing import Any

import torch

from ...data.subject import Subject
from ..transform import IntensityTransform, replace_image
from ._masking import MaskingMethod, check_masking_method, get_mask, masked_values


class Standardize(IntensityTransform):
    """Subtract the mean and divide by the standard deviation (within the mask).

    Args:
        masking_method: ``None`` (all voxels), the name of a :class:`LabelMap`
            or a function of the tensor returning a mask.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        RuntimeError: (when applied) the standard deviation is zero.
    """

    def __init__(self, *, masking_method: MaskingMethod = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.masking_method = check_masking_method(masking_method)

    def make_params(self, subject: Subject) -> dict[str, Any]:
        stats = {}
        for name, image in self._get_images(subject).items():
            data = image.data
            values = masked_values(data, get_mask(self.masking_method, data, subject))
            if values.numel() == 0:
                warnings.warn(
                    f'Mask is empty for "{name}". Using all voxels.', RuntimeWarning, stacklevel=2
                )
                values = data.reshape(-1)
            values = values.float()
            stats[name] = (float(values.mean().item()), float(values.std().item()))
        return {"stats": stats}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            if name not in params["stats"]:
                continue
            mean, std = params["stats"][name]
            if std == 0:
                raise RuntimeError(
                    f'Standard deviation is zero for masked values in "{name}". Cannot standardize.'
                )
            standardized = torch.sub(image.data.float(), mean).div_(std)
            replace_image(subject, name, image.new_like(data=standardized))
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> _StandardizeInverse:
        """Multiply by the recorded standard deviation and add the mean."""
        return _StandardizeInverse(stats=params["stats"], copy=False)


class _StandardizeInverse(IntensityTransform):
    def __init__(self, *, stats: dict[str, tuple[float, float]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stats = stats

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            if name in self._stats and self._stats[name][1] != 0:
                mean, std = self._stats[name]
                replace_image(subject, name, image.new_like(data=image.data.float() * std + mean))
        return subject


ZNormalization = Standardize
