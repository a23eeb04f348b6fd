"""``Lambda``: a function of a 4D tensor, applied as a transform."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..data.image import Image, LabelMap, ScalarImage
from ..data.subject import Subject
from .transform import Transform, check_callable, replace_image

_TYPES = (None, "scalar", "label")


class Lambda(Transform):
    """Apply ``function`` to the ``(C, I, J, K)`` tensor of each image.

    The result is written into a tensor of the input's shape and dtype (as
    TorchIO does), so it must broadcast to that shape.

    Args:
        function: Takes and returns a 4D tensor.
        types_to_apply: ``"scalar"`` (scalar images only), ``"label"`` (label
            maps only) or ``None`` (all images). Any other value also applies
            to all images, as in TorchIO, with a warning (a typo is likely).
        **kwargs: See :class:`Transform`.

    Raises:
        TypeError: ``function`` is not callable.
    """

    def __init__(
        self,
        function: Callable[[Tensor], Tensor],
        types_to_apply: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_callable(function, "function")
        if types_to_apply not in _TYPES:
            warnings.warn(
                f"types_to_apply must be 'scalar', 'label' or None, got {types_to_apply!r};"
                " the function is applied to every image (as TorchIO does)",
                stacklevel=2,
            )
        self.function = function
        self.types_to_apply = types_to_apply

    def _applies_to(self, image: Image) -> bool:
        if self.types_to_apply == "scalar":
            return isinstance(image, ScalarImage)
        if self.types_to_apply == "label":
            return isinstance(image, LabelMap)
        return True

    def apply_transform(self, subject: Subject, params: dict[str, Any]) -> Subject:
        # TorchIO's Lambda ignores include/exclude: every image of the type is changed.
        for name, image in subject.images.items():
            if not self._applies_to(image):
                continue
            data = image.data
            result = torch.empty_like(data)
            # The function may work in place: give it a copy (the input is shared).
            result.copy_(self.function(data.clone()))
            replace_image(subject, name, image.new_like(data=result))
        return subject
