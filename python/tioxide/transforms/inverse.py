"""Undoing a transform history: ``get_inverse_transform`` and ``apply_inverse_transform``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from .batching import elements
from .compose import Compose
from .history import AppliedTransform, lookup
from .transform import IntensityTransform, Transform


def get_inverse_transform(
    history: Sequence[AppliedTransform],
    *,
    warn: bool = True,
    ignore_intensity: bool = False,
) -> Compose:
    """A :class:`Compose` of the inverses of ``history``'s transforms, last first.

    Args:
        history: ``applied_transforms`` records.
        warn: Warn about records that cannot be inverted (they are skipped).
        ignore_intensity: Skip intensity transforms.

    Raises:
        TypeError: An entry that is not an :class:`AppliedTransform`.
    """
    steps: list[Transform] = []
    for record in reversed(list(history)):
        if not isinstance(record, AppliedTransform):
            raise TypeError(f"Expected AppliedTransform records, got {type(record).__name__}")
        cls = lookup(record.name)
        if cls is None:
            if warn:
                warnings.warn(
                    f"Unknown transform {record.name!r} in history, skipping", stacklevel=2
                )
            continue
        if ignore_intensity and issubclass(cls, IntensityTransform):
            continue
        # inverse() only needs the recorded parameters, not the constructor's.
        instance = object.__new__(cls)
        if not instance.invertible:
            if warn:
                warnings.warn(f"{record.name} is not invertible, skipping", stacklevel=2)
            continue
        inverse = instance.inverse(record.params)
        inverse.include = None if record.include is None else list(record.include)
        inverse.exclude = None if record.exclude is None else list(record.exclude)
        steps.append(inverse)
    return Compose(steps)


def apply_inverse_transform(data: Any, *, warn: bool = True, ignore_intensity: bool = False) -> Any:
    """Undo the recorded transforms of ``data`` (anything with ``applied_transforms``).

    ``data`` is not changed: the result is a new object, of ``data``'s type,
    with an empty history. Objects without a history are returned as they are.
    """
    from ..data.batch import SubjectsBatch
    from ..data.invertible import Invertible

    history = getattr(data, "applied_transforms", None)
    if history is None:
        return data
    if isinstance(data, SubjectsBatch) and data._per_element_history is not None:
        # Elements with histories of their own: each is undone by its own.
        inverted = [
            apply_inverse_transform(subject, warn=warn, ignore_intensity=ignore_intensity)
            for subject in data.unbatch()
        ]
        return type(data).from_subjects(inverted)
    if isinstance(data, Invertible):
        # A batch's records may hold one value per element: it knows how to undo them.
        inverse = data.get_inverse_transform(warn=warn, ignore_intensity=ignore_intensity)
    else:
        inverse = get_inverse_transform(history, warn=warn, ignore_intensity=ignore_intensity)
    result = inverse(data)
    if hasattr(result, "applied_transforms"):
        result.applied_transforms = []
    return result


class InverseEachElement(Transform):
    """Undoes, element by element, the histories of a batch whose elements were
    transformed with parameters of their own.

    Args:
        histories: One history per element, in batch order.
        warn: As for :func:`get_inverse_transform`.
        ignore_intensity: As for :func:`get_inverse_transform`.
    """

    def __init__(
        self, histories: Sequence[Sequence[AppliedTransform]], *, warn: bool, ignore_intensity: bool
    ) -> None:
        super().__init__()
        self.inverses = [
            get_inverse_transform(history, warn=warn, ignore_intensity=ignore_intensity)
            for history in histories
        ]

    def forward(self, data: Any) -> Any:
        """The inverses applied to the elements of ``data``, a batch of as many.

        Raises:
            TypeError: ``data`` is not a ``SubjectsBatch``.
            ValueError: It has another number of elements.
        """
        from ..data.batch import SubjectsBatch

        if not isinstance(data, SubjectsBatch):
            raise TypeError(f"Expected a SubjectsBatch, got {type(data).__name__}")
        if data.batch_size != len(self.inverses):
            raise ValueError(
                f"The inverse was made for a batch of {len(self.inverses)}, got {data.batch_size}"
            )
        subjects = elements(data)
        undone = [inverse(s) for inverse, s in zip(self.inverses, subjects, strict=True)]
        result = type(data).from_subjects(undone)
        result.applied_transforms = []
        return result
