"""``Noise``: add Gaussian (or Rician) noise."""

from __future__ import annotations

from typing import Any

import torch

from ...data.subject import Subject
from ..parameter_range import to_nonneg_range, to_range
from ..transform import IntensityTransform, replace_image


class Noise(IntensityTransform):
    """Add noise of mean ``mean`` and standard deviation ``std`` (drawn if ranges).

    The noise comes from a generator seeded with a recorded seed, so the same
    parameters give the same noise.

    Args:
        mean: Mean of the noise, or a range to draw it from.
        std: Standard deviation, or a range to draw it from (non-negative).
        rician: Rician noise: the magnitude of the image plus complex Gaussian noise.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A negative ``std``.
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True

    def __init__(
        self, *, mean: Any = 0.0, std: Any = 0.25, rician: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.mean = to_range(mean)
        self.std = to_nonneg_range(std)
        self.rician = rician

    def make_params(self, subject: Subject) -> dict[str, Any]:
        seed = int(torch.randint(0, 2**31, (1,)).item())
        mean = self.mean.sample_1d()
        std = self.std.sample_1d()
        return {"mean": mean, "std": std, "seed": seed, "rician": self.rician}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        generator = torch.Generator(device="cpu")
        generator.manual_seed(params["seed"])
        mean, std = params["mean"], params["std"]

        def noise(shape: torch.Size, device: torch.device) -> torch.Tensor:
            # mean + std * N(0, 1), computed in place on the fresh sample.
            return torch.randn(shape, generator=generator).to(device).mul_(std).add_(mean)

        for name, image in self._get_images(subject).items():
            data = image.data
            if params.get("rician", False):
                first = noise(data.shape, data.device)
                second = noise(data.shape, data.device)
                noisy = torch.sqrt((data + first) ** 2 + second**2)
            else:
                sample = noise(data.shape, data.device)
                if torch.result_type(data, sample) == sample.dtype:
                    noisy = sample.add_(data)  # data + noise, without another tensor
                else:
                    noisy = data + sample
            replace_image(subject, name, image.new_like(data=noisy))
        return subject
