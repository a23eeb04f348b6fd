"""The transform history that images (and later subjects) carry."""

from __future__ import annotations

from typing import Any


class Invertible:
    """Mixin for objects that record the transforms applied to them.

    Subclasses set ``self.applied_transforms = []`` in their constructor.
    """

    applied_transforms: list[Any]

    def clear_history(self) -> None:
        """Forget every recorded transform."""
        self.applied_transforms = []
