"""``Blur``: Gaussian smoothing with standard deviations in mm."""

from __future__ import annotations

from typing import Any

from ...data.subject import Subject
from .._smoothing import gaussian_smooth
from ..parameter_range import to_nonneg_range
from ..transform import IntensityTransform, replace_image


class Blur(IntensityTransform):
    """Blur with a Gaussian of standard deviations ``std`` in mm (per axis).

    Args:
        std: The standard deviations: a number, three numbers, or ranges to
            draw them from (see :mod:`~tioxide.transforms.parameter_range`).
            The default, 0, changes nothing (and warns, as in TorchIO).
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A negative standard deviation.
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True

    def __init__(self, *, std: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.std = to_nonneg_range(std)
        self._warn_if_noop(is_noop=self.std.is_constant(0.0), hint="std=(0, 2)")

    def make_params(self, subject: Subject) -> dict[str, Any]:
        return {"std": self.std.sample()}

    def _sample_elements(
        self, subjects: list[Subject], *, gated: bool
    ) -> tuple[list[dict[str, Any]], list[bool] | None]:
        # TorchIO draws the batch's standard deviations axis by axis.
        keep = self._gate(len(subjects), gated=gated)
        stds = self.std.sample(len(subjects)).tolist()
        return [{"std": tuple(row)} for row in stds], keep

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            # mm to voxels of this image
            pairs = zip(params["std"], image.spacing, strict=True)
            sigmas = [s / step if step > 0 else 0.0 for s, step in pairs]
            smoothed = gaussian_smooth(image.data, (sigmas[0], sigmas[1], sigmas[2]))
            replace_image(subject, name, image.new_like(data=smoothed))
        return subject
