"""The voxels an intensity statistic is computed on (``masking_method``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from ...data.image import LabelMap
from ...data.subject import Subject

MaskingMethod = str | Callable[[Tensor], Tensor] | None


def check_masking_method(method: Any) -> MaskingMethod:
    """Raises TypeError for a masking method that is not None, a name or a callable."""
    if method is None or isinstance(method, str) or callable(method):
        return method  # type: ignore[no-any-return]
    raise TypeError(f"masking_method must be None, str, or callable, got {type(method)}")


def get_mask(method: MaskingMethod, data: Tensor, subject: Subject) -> Tensor | None:
    """The boolean mask of ``method`` for ``data`` (``None``: all voxels).

    Raises:
        KeyError: A label map name that is not in the subject.
        TypeError: A name of an image that is not a :class:`LabelMap`.
    """
    if method is None:
        return None
    if isinstance(method, str):
        images = subject.images
        if method not in images:
            raise KeyError(
                f'Masking method "{method}" not found in subject images. Available: {list(images)}'
            )
        mask = images[method]
        if not isinstance(mask, LabelMap):
            raise TypeError(f'Masking method "{method}" must refer to a LabelMap.')
        return mask.data.bool()
    return method(data).bool()


def masked_values(data: Tensor, mask: Tensor | None) -> Tensor:
    """The voxels of ``data`` inside ``mask`` (broadcast over channels), as 1D."""
    return data.reshape(-1) if mask is None else data[mask.expand_as(data)]
