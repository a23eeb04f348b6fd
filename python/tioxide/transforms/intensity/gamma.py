"""``Gamma``: raise intensities to a power (keeping their sign)."""

from __future__ import annotations

import math
from typing import Any

from ...data.subject import Subject
from ..parameter_range import to_range
from ..transform import IntensityTransform, replace_image


def _power(subject: Subject, transform: IntensityTransform, gamma: float) -> Subject:
    for name, image in transform._get_images(subject).items():
        data = image.data
        replace_image(subject, name, image.new_like(data=data.sign() * data.abs().pow(gamma)))
    return subject


class Gamma(IntensityTransform):
    """Replace each intensity ``x`` with ``sign(x) |x| ** exp(log_gamma)``.

    Args:
        log_gamma: The logarithm of the exponent, or a range to draw it from.
            The default, 0, changes nothing (and warns, as in TorchIO).
        **kwargs: See :class:`~tioxide.transforms.Transform`.
    """

    _PER_INSTANCE_PARAMS = True
    _PER_INSTANCE_P = True

    def __init__(self, *, log_gamma: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log_gamma = to_range(log_gamma)
        self._warn_if_noop(is_noop=self.log_gamma.is_constant(0.0), hint="log_gamma=(-0.3, 0.3)")

    def make_params(self, subject: Subject) -> dict[str, Any]:
        return {"log_gamma": self.log_gamma.sample_1d()}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        return _power(subject, self, math.exp(params["log_gamma"]))

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> _GammaInverse:
        """The power ``exp(-log_gamma)``."""
        return _GammaInverse(log_gamma=params["log_gamma"], copy=False)


class _GammaInverse(IntensityTransform):
    def __init__(self, *, log_gamma: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._log_gamma = log_gamma

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        return _power(subject, self, math.exp(-self._log_gamma))
