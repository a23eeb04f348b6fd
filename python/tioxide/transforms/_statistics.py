"""Quantiles computed as TorchIO computes them (``kthvalue`` and linear interpolation)."""

from __future__ import annotations

import math

from torch import Tensor


def compute_quantile(values: Tensor, q: float) -> Tensor:
    """The ``q`` quantile of the 1D tensor ``values`` (NumPy's "linear" method).

    ``torch.quantile`` refuses large tensors; ``kthvalue`` does not.

    Raises:
        ValueError: ``q`` outside ``[0, 1]``.
    """
    if not 0 <= q <= 1:
        raise ValueError(f"Only values 0 <= q <= 1 are supported, but got {q!r}")
    if q in (0, 1) and not bool(values.isnan().any()):
        # The extremes are the minimum and maximum: one pass instead of a selection.
        return values.min() if q == 0 else values.max()
    position = q * (values.numel() - 1)
    below = math.floor(position)
    low = values.kthvalue(below + 1).values
    if position == below:
        return low
    high = values.kthvalue(below + 2).values
    return low.lerp(high, position - below)
