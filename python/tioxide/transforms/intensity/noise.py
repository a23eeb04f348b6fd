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
        for name, image in self._get_images(subject).items():
            shape = image.data.shape
            first = torch.randn(shape, generator=generator)
            second = torch.randn(shape, generator=generator) if params.get("rician") else None
            _add_noise(subject, name, first, second, params)
        return subject

    def _sample_elements(
        self, subjects: list[Subject], *, gated: bool
    ) -> tuple[list[dict[str, Any]], list[bool] | None]:
        # TorchIO's order: one seed for the batch, the gate, then the means
        # and the standard deviations of all elements.
        seed = int(torch.randint(0, 2**31, (1,)).item())
        n = len(subjects)
        keep = self._gate(len(subjects), gated=gated)
        means = self.mean.sample_1d(n).tolist()
        stds = self.std.sample_1d(n).tolist()
        params = [
            {"mean": mean, "std": std, "seed": seed, "rician": self.rician}
            for mean, std in zip(means, stds, strict=True)
        ]
        return params, keep

    def _apply_elements(
        self, subjects: list[Subject], params: list[dict[str, Any]], keep: list[bool] | None
    ) -> list[Subject]:
        # As TorchIO: one generator for the batch, each image's noise drawn
        # for all elements at once (gated-out elements too). The seed and
        # the kind are the batch's: any applied element's parameters hold them
        # (a replayed record holds none for elements it skipped).
        shared = next(p for n, p in enumerate(params) if keep is None or keep[n])
        generator = torch.Generator(device="cpu")
        generator.manual_seed(shared["seed"])
        rician = shared.get("rician")
        for name, image in self._get_images(subjects[0]).items():
            shape = (len(subjects), *image.data.shape)
            first = torch.randn(shape, generator=generator)
            second = torch.randn(shape, generator=generator) if rician else None
            for n, subject in enumerate(subjects):
                if keep is None or keep[n]:
                    other = None if second is None else second[n]
                    _add_noise(subject, name, first[n], other, params[n])
        return subjects


def _add_noise(
    subject: Subject,
    name: str,
    first: torch.Tensor,
    second: torch.Tensor | None,
    params: dict[str, Any],
) -> None:
    """Replace image ``name`` by itself plus ``mean + std * first`` (Rician
    with ``second``), ``first`` and ``second`` standard normal samples."""
    image = subject[name]
    data = image.data
    mean, std = params["mean"], params["std"]
    sample = first.to(data.device).mul_(std).add_(mean)
    if second is not None:
        other = second.to(data.device).mul_(std).add_(mean)
        noisy = torch.sqrt((data + sample) ** 2 + other**2)
    elif torch.result_type(data, sample) == sample.dtype:
        noisy = sample.add_(data)  # data + noise, without another tensor
    else:
        noisy = data + sample
    replace_image(subject, name, image.new_like(data=noisy))
