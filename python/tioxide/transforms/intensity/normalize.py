"""``Normalize`` (``RescaleIntensity``): map an intensity range linearly to another."""

from __future__ import annotations

import warnings
from typing import Any

from torch import Tensor

from ...data.subject import Subject
from .._statistics import compute_quantile
from ..parameter_range import _ParameterRange
from ..transform import IntensityTransform, replace_image
from ._masking import MaskingMethod, check_masking_method, get_mask, masked_values


def _range(value: Any) -> _ParameterRange:
    # As TorchIO: numbers become floats, and any sequence (lists too) a tuple of floats.
    if isinstance(value, int | float):
        value = float(value)
    elif isinstance(value, list | tuple):
        value = tuple(float(v) for v in value)
    return _ParameterRange(value)


def _percentiles(
    data: Tensor, mask: Tensor | None, low: float, high: float, name: str
) -> tuple[float, float]:
    values = masked_values(data, mask)
    if values.numel() == 0:
        warnings.warn(
            f'Cannot compute percentiles for "{name}": mask is empty. Using full range.',
            RuntimeWarning,
            stacklevel=4,
        )
        values = data.reshape(-1)
    values = values.float()
    return (
        float(compute_quantile(values, low / 100.0).item()),
        float(compute_quantile(values, high / 100.0).item()),
    )


class Normalize(IntensityTransform):
    """Rescale intensities linearly from ``[in_min, in_max]`` to ``[out_min, out_max]``.

    The input range is, unless given, the ``percentile_low``-``percentile_high``
    percentiles of each image (within the mask); values outside it are
    clamped. Every bound may be a range or :class:`~tioxide.Choice` to draw
    from. The result is float32.

    Args:
        out_min: Lower output bound.
        out_max: Upper output bound.
        in_min: Lower input bound (with ``in_max``), instead of percentiles.
        in_max: Upper input bound.
        percentile_low: Percentile (0-100) giving the lower input bound.
        percentile_high: Percentile giving the upper input bound.
        masking_method: ``None`` (all voxels), the name of a :class:`LabelMap`
            or a function of the tensor returning a mask.
        **kwargs: See :class:`~tioxide.transforms.Transform`.
    """

    _PER_INSTANCE_PARAMS = True

    def __init__(
        self,
        *,
        out_min: Any = -1.0,
        out_max: Any = 1.0,
        in_min: Any = None,
        in_max: Any = None,
        percentile_low: Any = 0.0,
        percentile_high: Any = 100.0,
        masking_method: MaskingMethod = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.out_min = _range(out_min)
        self.out_max = _range(out_max)
        self.in_min = None if in_min is None else _range(in_min)
        self.in_max = None if in_max is None else _range(in_max)
        self.percentile_low = _range(percentile_low)
        self.percentile_high = _range(percentile_high)
        self.masking_method = check_masking_method(masking_method)

    def make_params(self, subject: Subject) -> dict[str, Any]:
        out_min = self.out_min.sample_1d()
        out_max = self.out_max.sample_1d()
        low = self.percentile_low.sample_1d()
        high = self.percentile_high.sample_1d()
        params: dict[str, Any] = {"out_min": out_min, "out_max": out_max}
        if self.in_min is not None and self.in_max is not None:
            params["in_min"] = self.in_min.sample_1d()
            params["in_max"] = self.in_max.sample_1d()
            return params
        ranges = {}
        for name, image in self._get_images(subject).items():
            mask = get_mask(self.masking_method, image.data, subject)
            ranges[name] = _percentiles(image.data, mask, low, high, name)
        params["in_ranges"] = ranges
        return params

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        for name, image in self._get_images(subject).items():
            if "in_min" in params:
                in_min, in_max = params["in_min"], params["in_max"]
            elif name in params.get("in_ranges", {}):
                in_min, in_max = params["in_ranges"][name]
            else:
                continue
            if in_max - in_min == 0:
                warnings.warn(
                    f'Cannot rescale "{name}": input range is zero.', RuntimeWarning, stacklevel=2
                )
                continue
            out_min, out_max = params["out_min"], params["out_max"]
            data = image.data.float().clamp(in_min, in_max)  # a new tensor: work in place
            data.sub_(in_min).div_(in_max - in_min).mul_(out_max - out_min).add_(out_min)
            replace_image(subject, name, image.new_like(data=data))
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> _RescaleInverse:
        """The linear map back (values clamped on the way in stay clamped)."""
        return _RescaleInverse(
            out_min=params["out_min"],
            out_max=params["out_max"],
            in_min=params.get("in_min"),
            in_max=params.get("in_max"),
            in_ranges=params.get("in_ranges"),
            copy=False,
        )


class _RescaleInverse(IntensityTransform):
    """Map ``[out_min, out_max]`` back to each image's input range."""

    def __init__(
        self,
        *,
        out_min: float,
        out_max: float,
        in_min: float | None,
        in_max: float | None,
        in_ranges: dict[str, tuple[float, float]] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._out = (out_min, out_max)
        self._in = None if in_min is None or in_max is None else (in_min, in_max)
        self._in_ranges = in_ranges or {}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        out_min, out_max = self._out
        for name, image in self._get_images(subject).items():
            bounds = self._in if self._in is not None else self._in_ranges.get(name)
            if bounds is None or bounds[1] == bounds[0] or out_max == out_min:
                continue
            in_min, in_max = bounds
            data = (image.data.float() - out_min) / (out_max - out_min) * (in_max - in_min) + in_min
            replace_image(subject, name, image.new_like(data=data))
        return subject


RescaleIntensity = Normalize
