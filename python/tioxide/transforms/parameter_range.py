"""Transform parameters given as a value, a range, a :class:`Choice` or a distribution.

A parameter is described per spatial axis. The accepted forms are those of
TorchIO 2: a number (the same fixed value on the three axes), ``(lo, hi)``
(uniform on the three axes), ``(a, b, c)`` (fixed per axis),
``(lo0, hi0, lo1, hi1, lo2, hi2)`` (uniform per axis), a :class:`Choice`, a
``torch.distributions.Distribution``, or a 3-tuple mixing these per axis.

Sampling draws from torch's global generator in the same order and with the
same calls as TorchIO, so a seed set with ``torch.manual_seed`` gives the same
parameters in both libraries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import torch
from torch.distributions import Distribution


class Choice:
    """A finite set of values, one of which is drawn at random.

    Args:
        values: The values (at least one).
        probabilities: One probability per value; all equal if omitted.

    Raises:
        ValueError: No values, or a different number of probabilities.

    Examples:
        >>> Choice([-10, 0, 10])
        Choice([-10.0, 0.0, 10.0])
    """

    def __init__(
        self, values: Sequence[float], probabilities: Sequence[float] | None = None
    ) -> None:
        if len(values) == 0:
            raise ValueError("Choice requires at least one value")
        self._values = torch.tensor([float(v) for v in values])
        if probabilities is None:
            self._probs = torch.full((len(values),), 1.0 / len(values))
        else:
            if len(probabilities) != len(values):
                raise ValueError(
                    f"Expected {len(values)} probabilities (one per value),"
                    f" got {len(probabilities)}"
                )
            self._probs = torch.tensor([float(p) for p in probabilities])

    def sample(self) -> float:
        """One value, drawn with the given probabilities."""
        index = int(torch.multinomial(self._probs, 1).item())
        return float(self._values[index])

    def sample_batched(self, n: int) -> torch.Tensor:
        """``n`` values drawn independently (with replacement), as a 1D tensor."""
        return self._values[torch.multinomial(self._probs, n, replacement=True)]

    def __repr__(self) -> str:
        shown = [f"{v:.1f}" if v == int(v) else f"{v}" for v in self._values.tolist()]
        values = f"[{', '.join(shown)}]"
        if bool(torch.all(self._probs == self._probs[0])):
            return f"Choice({values})"
        probs = ", ".join(f"{p:.2f}" for p in self._probs.tolist())
        return f"Choice({values}, p=[{probs}])"


#: What one axis holds once parsed: a fixed value, a uniform range, a choice or a distribution.
AxisSpec: TypeAlias = "float | tuple[float, float] | Choice | Distribution"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _draw(spec: AxisSpec, generator: torch.Generator | None) -> float:
    if isinstance(spec, float):
        return spec
    if isinstance(spec, Choice):
        return spec.sample()
    if isinstance(spec, Distribution):
        return float(spec.sample().item())
    low, high = spec
    if low == high:
        # A degenerate range is fixed: no random number is consumed (as in TorchIO).
        return float(low)
    return float(torch.empty(1).uniform_(low, high, generator=generator).item())


def _draw_many(spec: AxisSpec, n: int, generator: torch.Generator | None) -> torch.Tensor:
    if isinstance(spec, float):
        return torch.full((n,), spec)
    if isinstance(spec, Choice):
        return spec.sample_batched(n)
    if isinstance(spec, Distribution):
        return spec.sample((n,)).reshape(n).to(torch.float32)
    low, high = spec
    if low == high:
        return torch.full((n,), float(low))
    return torch.empty(n).uniform_(low, high, generator=generator)


def _parse_axis(spec: object) -> AxisSpec:
    if _is_number(spec):
        return float(spec)  # type: ignore[arg-type]
    if isinstance(spec, Choice | Distribution):
        return spec
    if isinstance(spec, tuple) and len(spec) == 2 and all(_is_number(v) for v in spec):
        return (float(spec[0]), float(spec[1]))
    raise TypeError(
        "Per-axis spec must be a float, (lo, hi) tuple, Choice, or Distribution,"
        f" got {type(spec).__name__}"
    )


def _parse_tuple(value: tuple[Any, ...]) -> tuple[AxisSpec, AxisSpec, AxisSpec]:
    n = len(value)
    if n == 3 and not all(_is_number(v) for v in value):
        return (_parse_axis(value[0]), _parse_axis(value[1]), _parse_axis(value[2]))
    if not all(_is_number(v) for v in value):
        raise ValueError(f"Mixed per-axis specs require exactly 3 elements, got {n}")
    numbers = [float(v) for v in value]
    if n == 1:
        return (numbers[0], numbers[0], numbers[0])
    if n == 2:
        pair = (numbers[0], numbers[1])
        return (pair, pair, pair)
    if n == 3:
        return (numbers[0], numbers[1], numbers[2])
    if n == 6:
        return ((numbers[0], numbers[1]), (numbers[2], numbers[3]), (numbers[4], numbers[5]))
    raise ValueError(f"Tuple must have 1, 2, 3, or 6 elements, got {n}")


class _ParameterRange:
    """A parameter specification, parsed into one :data:`AxisSpec` per spatial axis.

    Args:
        value: See the module docstring for the accepted forms.

    Raises:
        TypeError: A value of another type (lists are not accepted, as in TorchIO).
        ValueError: A tuple of the wrong length.
    """

    def __init__(self, value: float | tuple[Any, ...] | Choice | Distribution) -> None:
        self._original = value
        if _is_number(value):
            fixed = float(value)  # type: ignore[arg-type]
            self._axes: tuple[AxisSpec, AxisSpec, AxisSpec] = (fixed, fixed, fixed)
        elif isinstance(value, Choice | Distribution):
            self._axes = (value, value, value)
        elif isinstance(value, tuple):
            self._axes = _parse_tuple(value)
        else:
            raise TypeError(
                f"Expected float, tuple, Distribution, or Choice, got {type(value).__name__}"
            )

    @property
    def is_deterministic(self) -> bool:
        """Whether every axis is a fixed number."""
        return all(isinstance(axis, float) for axis in self._axes)

    def is_constant(self, value: float) -> bool:
        """Whether every axis always gives ``value`` (fixed, or a ``(value, value)`` range)."""
        for axis in self._axes:
            if isinstance(axis, float):
                if axis != value:
                    return False
            elif isinstance(axis, tuple):
                if not axis[0] == axis[1] == value:
                    return False
            else:
                return False
        return True

    @property
    def _ranges(self) -> tuple[tuple[float, float], ...]:
        """Per-axis ``(lo, hi)``; choices and distributions count as ``(0, 0)``."""
        ranges: list[tuple[float, float]] = []
        for axis in self._axes:
            if isinstance(axis, float):
                ranges.append((axis, axis))
            elif isinstance(axis, tuple):
                ranges.append(axis)
            else:
                ranges.append((0.0, 0.0))
        return tuple(ranges)

    @property
    def _distribution(self) -> Distribution | None:
        first = self._axes[0]
        return first if isinstance(first, Distribution) else None

    def sample(self, n: int | None = None, *, generator: torch.Generator | None = None) -> Any:
        """Three values (one per axis), or an ``(n, 3)`` tensor of ``n`` draws."""
        if n is None:
            return tuple(_draw(axis, generator) for axis in self._axes)
        return torch.stack([_draw_many(axis, n, generator) for axis in self._axes], dim=-1)

    def sample_1d(self, n: int | None = None, *, generator: torch.Generator | None = None) -> Any:
        """One value from the first axis' spec, or a 1D tensor of ``n`` draws."""
        if n is None:
            return _draw(self._axes[0], generator)
        return _draw_many(self._axes[0], n, generator)

    def __repr__(self) -> str:
        value = self._original
        if isinstance(value, tuple):
            return f"({', '.join(repr(v) for v in value)})"
        if isinstance(value, Choice | Distribution):
            return repr(value)
        return str(value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _ParameterRange):
            return bool(self._original == other._original)
        return bool(self._original == other)

    __hash__ = None  # type: ignore[assignment]


def to_range(value: float | tuple[Any, ...] | Choice | Distribution) -> _ParameterRange:
    """Parse a parameter specification."""
    return _ParameterRange(value)


def to_nonneg_range(value: float | tuple[Any, ...] | Choice | Distribution) -> _ParameterRange:
    """Parse a parameter specification whose ranges must not go below zero.

    Raises:
        ValueError: A fixed value or range bound is negative.
    """
    parsed = _ParameterRange(value)
    if parsed._distribution is None:
        for low, high in parsed._ranges:
            if low < 0 or high < 0:
                raise ValueError(f"Value must be non-negative, got {value}")
    return parsed
