"""``PCA``: project the channels of each image on their principal components."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...data.subject import Subject
from ..transform import IntensityTransform, replace_image


class PCA(IntensityTransform):
    """Replace the channels with the first ``num_components`` principal components, in [0, 1].

    For visualising many-channel images (features, diffusion). ``torch.pca_lowrank``
    draws random numbers, as in TorchIO.

    Args:
        num_components: How many components to keep (at most the channels).
        whiten: Divide each component by its standard deviation.
        normalize: Divide by the standard deviation of the first component.
        values_range: The range mapped to [0, 1].
        clip: Clip to [0, 1].
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: ``num_components`` below 1, or (when applied) above the channels.
    """

    def __init__(
        self,
        num_components: int = 3,
        *,
        whiten: bool = True,
        normalize: bool = True,
        values_range: tuple[float, float] = (-2.3, 2.3),
        clip: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if num_components < 1:
            raise ValueError(f"num_components must be >= 1, got {num_components}")
        self.num_components = num_components
        self.whiten = whiten
        self.normalize = normalize
        self.values_range = values_range
        self.clip = clip

    def _project(self, tensor: Tensor) -> Tensor:
        channels, *shape = tensor.shape
        if channels < self.num_components:
            raise ValueError(
                f"Image has {channels} channels but num_components={self.num_components}."
                " Need at least as many channels as components."
            )
        flat = tensor.float().reshape(channels, -1).T
        centred = flat - flat.mean(dim=0, keepdim=True)
        _, singular, vectors = torch.pca_lowrank(centred, q=self.num_components)
        projected = centred @ vectors
        if self.whiten:
            count = flat.shape[0]
            spread = singular / ((count - 1) ** 0.5 if count > 1 else 1.0)
            projected = projected / spread.clamp(min=1e-08).unsqueeze(0)
        if self.normalize and projected.shape[1] > 0:
            projected = projected / projected[:, 0].std().clamp(min=1e-08)
        low, high = self.values_range
        projected = (projected - low) / (high - low)
        if self.clip:
            projected = projected.clamp(0, 1)
        return projected.T.reshape(-1, *shape)

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            replace_image(subject, name, image.new_like(data=self._project(image.data)))
        return subject
