"""The transform history that images and subjects carry, and undoing it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..transforms import Compose

_Self = TypeVar("_Self", bound="Invertible")


class Invertible:
    """Mixin for objects that record the transforms applied to them.

    Subclasses set ``self.applied_transforms = []`` in their constructor;
    transforms append :class:`~tioxide.AppliedTransform` records to it.
    """

    applied_transforms: list[Any]

    def get_inverse_transform(
        self, *, warn: bool = True, ignore_intensity: bool = False
    ) -> Compose:
        """A ``Compose`` of the inverses of the recorded transforms, last first.

        Args:
            warn: Warn about transforms that cannot be inverted (they are skipped).
            ignore_intensity: Skip intensity transforms.
        """
        from ..transforms.inverse import get_inverse_transform

        return get_inverse_transform(
            self.applied_transforms, warn=warn, ignore_intensity=ignore_intensity
        )

    def apply_inverse_transform(self: _Self, **kwargs: Any) -> _Self:
        """A copy with the recorded transforms undone and an empty history.

        Args:
            **kwargs: ``warn`` and ``ignore_intensity``, as for
                :meth:`get_inverse_transform`.
        """
        from ..transforms.inverse import apply_inverse_transform

        result: _Self = apply_inverse_transform(self, **kwargs)
        return result

    def clear_history(self) -> None:
        """Forget every recorded transform."""
        self.applied_transforms = []
