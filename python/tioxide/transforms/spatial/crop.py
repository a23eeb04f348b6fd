"""``Crop``: remove voxels from the borders of the volume."""

from __future__ import annotations

from typing import Any

from ...data.subject import Subject
from ..transform import SpatialTransform, replace_image
from . import _ops
from ._padding import six_ints


class Crop(SpatialTransform):
    """Remove a border of voxels; the origin moves so that voxels keep their positions.

    On an image that is not loaded yet nothing is read: the result reads only
    the kept voxels when its data is needed.

    Args:
        cropping: ``(i_ini, i_fin, j_ini, j_fin, k_ini, k_fin)``; three values
            ``(i, j, k)`` crop both sides of each axis; one value crops all six.
        **kwargs: See :class:`~tioxide.transforms.Transform`.

    Raises:
        ValueError: A wrong number of values, or negative values.
        TypeError: Values that are not integers.
    """

    def __init__(self, *, cropping: int | tuple[int, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = six_ints(cropping, "cropping")

    def make_params(self, subject: Subject) -> dict[str, Any]:
        return {"cropping": self.cropping}

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        cropping = six_ints(params["cropping"], "cropping")
        for name, image in self._get_images(subject).items():
            replace_image(subject, name, _ops.crop(image, cropping))
        return subject

    @property
    def invertible(self) -> bool:
        return True

    def inverse(self, params: dict[str, Any]) -> Any:
        """Padding the cropped voxels back (with zeros)."""
        from .pad import Pad

        return Pad(padding=params["cropping"], copy=False)
