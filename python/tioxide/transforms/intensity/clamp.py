"""``Clamp``: limit intensities to a range."""

from __future__ import annotations

from typing import Any

from ...data.subject import Subject
from ..transform import IntensityTransform, replace_image


class Clamp(IntensityTransform):
    """Clamp intensities to ``[out_min, out_max]`` (either bound may be omitted).

    Args:
        out_min: The lowest value kept, or ``None``.
        out_max: The highest value kept, or ``None``.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: ``out_min > out_max``.
    """

    def __init__(
        self, *, out_min: float | None = None, out_max: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if out_min is not None and out_max is not None and out_min > out_max:
            raise ValueError(f"out_min ({out_min}) must be <= out_max ({out_max})")
        self.out_min = out_min
        self.out_max = out_max

    def make_params(self, subject: Subject) -> dict[str, Any]:
        return {"out_min": self.out_min, "out_max": self.out_max}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        if params["out_min"] is None and params["out_max"] is None:
            return subject  # no bounds: nothing to clamp (torch.clamp would raise)
        for name, image in self._get_images(subject).items():
            clamped = image.data.clamp(min=params["out_min"], max=params["out_max"])
            replace_image(subject, name, image.new_like(data=clamped))
        return subject
