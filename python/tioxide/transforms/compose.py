"""``Compose``, ``OneOf`` and ``SomeOf``: transforms made of transforms.

A composition copies its input once (``copy=True``), then runs its children
on that copy without copying again, all on one subject whose history
collects each child's record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ..data.image import Image
from ..data.subject import Subject
from .batching import is_batch, transform_batch
from .copying import call_without_copy, copy_input, copy_off, unshare
from .transform import Transform
from .wrapping import wrap


def _check_transforms(transforms: Sequence[Any], owner: str) -> list[Transform]:
    result = list(transforms)
    for transform in result:
        if not isinstance(transform, Transform):
            raise TypeError(
                f"{owner} expects Transform instances, got {type(transform).__name__};"
                " wrap functions of tensors in tioxide.Lambda"
            )
    return result


def apply_child(transform: Transform, subject: Subject) -> Subject:
    """Run a child transform on ``subject`` without copying it.

    Transforms that override ``forward`` (user subclasses written for TorchIO)
    are called through it, with ``copy`` switched off for the call.
    """
    if type(transform).forward is Transform.forward or isinstance(transform, _Composition):
        with copy_off(transform):
            return transform._apply_to_subject(subject, batched=True)
    result = call_without_copy(transform, subject)
    if not isinstance(result, Subject):
        raise TypeError(
            f"{type(transform).__name__}.forward returned {type(result).__name__} for a Subject"
        )
    return result


class _Composition(Transform):
    """A transform that applies child transforms (and records nothing itself)."""

    transforms: list[Transform]

    def forward(self, data: Any) -> Any:
        if is_batch(data):
            return transform_batch(self, data)
        batched = not isinstance(data, Subject | Image)
        shared: list[int] = []
        if self.copy:
            data, shared = copy_input(self, data)
        subject, unwrap = wrap(data)
        return unshare(unwrap(self._apply_to_subject(subject, batched=batched)), shared)

    def to_hydra(self) -> dict[str, Any]:
        config = super().to_hydra()
        config["transforms"] = [t.to_hydra() for t in self.transforms]
        return config


class Compose(_Composition):
    """Apply transforms one after the other.

    ``p`` is accepted but, as in TorchIO, the composition itself always runs;
    give the children their own ``p``.

    Args:
        transforms: The transforms, or a mapping whose values are the transforms
            (the keys only name them).
        copy: Deep-copy the input once before the pipeline runs.
        **kwargs: See :class:`Transform`.

    Raises:
        TypeError: An element that is not a :class:`Transform`.
    """

    def __init__(
        self,
        transforms: Sequence[Transform] | Mapping[str, Transform] | None = None,
        *,
        copy: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(copy=copy, **kwargs)
        if transforms is None:
            items: Sequence[Transform] = []
        elif isinstance(transforms, Mapping):
            items = list(transforms.values())
        else:
            items = transforms
        self.transforms = _check_transforms(items, "Compose")

    def _apply_to_subject(self, subject: Subject, *, batched: bool) -> Subject:
        for transform in self.transforms:
            subject = apply_child(transform, subject)
        return subject

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Transform:
        return self.transforms[index]


class _Choice(_Composition):
    """A composition that draws which of its transforms to apply, each time."""

    def choose(self) -> list[Transform] | None:
        """The transforms to apply, in order; ``None`` if ``p`` says none."""
        if torch.rand(1).item() >= self.p:
            return None
        return self._draw()

    def _draw(self) -> list[Transform]:
        raise NotImplementedError

    def _apply_to_subject(self, subject: Subject, *, batched: bool) -> Subject:
        return apply_chosen(self.choose(), subject)


def apply_chosen(chosen: list[Transform] | None, subject: Subject) -> Subject:
    """``subject`` through the transforms a :class:`_Choice` chose, in order."""
    for child in chosen or []:
        subject = apply_child(child, subject)
    return subject


class OneOf(_Choice):
    """Apply one of the transforms, chosen at random.

    Args:
        transforms: The transforms (equally likely), or a dict of transform to
            relative weight.
        **kwargs: See :class:`Transform`.

    Raises:
        ValueError: No transforms, or weights that are negative or sum to zero.
        TypeError: An element that is not a :class:`Transform`.
    """

    def __init__(
        self, transforms: Sequence[Transform] | Mapping[Transform, float], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(transforms, Mapping):
            self.transforms = _check_transforms(list(transforms.keys()), "OneOf")
            weights = [float(w) for w in transforms.values()]
        else:
            self.transforms = _check_transforms(transforms, "OneOf")
            weights = [1.0] * len(self.transforms)
        if not self.transforms:
            raise ValueError("OneOf needs at least one transform")
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(
                f"OneOf weights must be non-negative with a positive sum, got {weights}"
            )
        total = sum(weights)
        self.weights = [w / total for w in weights]

    def _draw(self) -> list[Transform]:
        index = int(torch.multinomial(torch.tensor(self.weights), num_samples=1).item())
        return [self.transforms[index]]


class SomeOf(_Choice):
    """Apply a random subset of the transforms, in random order.

    Args:
        transforms: The candidate transforms.
        num_transforms: How many to apply: a number, or ``(min, max)`` to draw
            it uniformly (both included).
        replace: Draw with replacement (a transform may run more than once).
        **kwargs: See :class:`Transform`.

    Raises:
        ValueError: A negative count or ``min > max``.
        TypeError: An element that is not a :class:`Transform`.
    """

    def __init__(
        self,
        transforms: Sequence[Transform] | None = None,
        *,
        num_transforms: int | tuple[int, int] = 1,
        replace: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.transforms = _check_transforms(transforms or [], "SomeOf")
        low, high = (
            (num_transforms, num_transforms)
            if isinstance(num_transforms, int)
            else tuple(num_transforms)
        )
        if low < 0 or low > high:
            raise ValueError(
                f"num_transforms must be a count >= 0 or (min, max) with min <= max,"
                f" got {num_transforms!r}"
            )
        self.num_transforms = num_transforms
        self.replace = replace
        self._bounds = (int(low), int(high))

    def _draw(self) -> list[Transform]:
        low, high = self._bounds
        n = int(torch.randint(low, high + 1, size=(1,)).item())
        count = len(self.transforms)
        if self.replace:
            indices = torch.randint(0, count, (n,)).tolist() if count else []
        else:
            indices = torch.randperm(count)[: min(n, count)].tolist()
        return [self.transforms[int(index)] for index in indices]
