"""``BiasField``: a smooth multiplicative intensity field (MRI bias)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...data.subject import Subject
from ..parameter_range import to_nonneg_range
from ..transform import IntensityTransform, replace_image


def bias_field(
    shape: torch.Size, std: float, scale: float, seed: int, device: torch.device, count: int = 1
) -> Tensor:
    """``exp`` of Gaussian noise on a coarse grid (``scale`` of the size, at least 4),
    upsampled: ``count`` fields for images of ``shape``, ``(count, *shape)``.

    The noise comes from a generator seeded with ``seed``: the same parameters
    give the same fields (TorchIO draws a batch's shared fields at once so).
    """
    channels, *spatial = shape
    coarse_shape = [max(round(size * scale), 4) for size in spatial]
    generator = torch.Generator(device="cpu")
    generator.manual_seed(seed)
    coarse = torch.normal(
        mean=0.0, std=std, size=(count, channels, *coarse_shape), generator=generator
    ).to(device)
    field = torch.nn.functional.interpolate(
        coarse, size=list(spatial), mode="trilinear", align_corners=True
    )
    return torch.exp(field)


class BiasField(IntensityTransform):
    """Multiply intensities by a smooth random field, as MRI coils' inhomogeneity does.

    Args:
        std: Standard deviation of the log-field (a value or a range to draw from).
        scale: Size of the coarse grid relative to the image, in ``(0, 1]``;
            smaller is smoother.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A negative ``std`` or ``scale`` outside ``(0, 1]``.
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True

    def __init__(self, *, std: Any = 0.5, scale: float = 0.025, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.std = to_nonneg_range(std)
        if not 0 < scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {scale}")
        self.scale = scale

    def make_params(self, subject: Subject) -> dict[str, Any]:
        std = self.std.sample_1d()
        seed = int(torch.randint(0, 2**31, (1,)).item())
        return {"std": std, "seed": seed, "scale": self.scale}

    def _sample_elements(
        self, subjects: list[Subject], *, gated: bool
    ) -> tuple[list[dict[str, Any]], list[bool] | None]:
        # TorchIO's order on a batch: the gate, every element's standard
        # deviation, then every element's seed.
        n = len(subjects)
        keep = self._gate(n, gated=gated)
        stds = self.std.sample_1d(n).tolist()
        seeds = [int(torch.randint(0, 2**31, (1,)).item()) for _ in range(n)]
        params = [
            {"std": std, "seed": seed, "scale": self.scale}
            for std, seed in zip(stds, seeds, strict=True)
        ]
        return params, keep

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        return _multiply(self, subject, params, divide=False)

    def _apply_elements(
        self, subjects: list[Subject], params: list[dict[str, Any]], keep: list[bool] | None
    ) -> list[Subject]:
        if _shared_by_all(params, keep):
            return _multiply_batch(self, subjects, params[0], divide=False)
        return super()._apply_elements(subjects, params, keep)

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> _BiasFieldInverse:
        """Dividing by the same field."""
        return _BiasFieldInverse(field=params, copy=False)


def _multiply(
    transform: IntensityTransform, subject: Subject, params: dict[str, Any], *, divide: bool
) -> Subject:
    return _multiply_batch(transform, [subject], params, divide=divide)[0]


def _shared_by_all(params: list[dict[str, Any]], keep: list[bool] | None) -> bool:
    """Whether a batch's elements share one draw (the same parameters object)."""
    return len(params) > 1 and keep is None and all(p is params[0] for p in params)


def _multiply_batch(
    transform: IntensityTransform, subjects: list[Subject], params: dict[str, Any], *, divide: bool
) -> list[Subject]:
    """A batch's elements times (or over) the fields one seed gives the whole
    batch, element ``n`` the ``n``-th: TorchIO's shared bias field."""
    if params["std"] == 0:
        return subjects
    for name, image in transform._get_images(subjects[0]).items():
        data = image.data
        fields = bias_field(
            data.shape, params["std"], params["scale"], params["seed"], data.device, len(subjects)
        )
        for field, subject in zip(fields, subjects, strict=True):
            own = subject.images[name]
            values = own.data / field if divide else own.data * field
            replace_image(subject, name, own.new_like(data=values))
    return subjects


class _BiasFieldInverse(IntensityTransform):
    def __init__(self, *, field: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._field = dict(field)

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        return _multiply(self, subject, self._field, divide=True)

    def _apply_elements(
        self, subjects: list[Subject], params: list[dict[str, Any]], keep: list[bool] | None
    ) -> list[Subject]:
        if _shared_by_all(params, keep):
            return _multiply_batch(self, subjects, self._field, divide=True)
        return super()._apply_elements(subjects, params, keep)
