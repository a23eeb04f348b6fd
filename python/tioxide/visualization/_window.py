"""Intensity windows from percentiles, without sorting or widening the voxels.

``np.percentile`` of the views' voxels converted to float64 spends most of a
plot's non-I/O time; the same two order statistics come from one
``np.partition`` of the voxels in their own dtype (float32 values convert
to float64 exactly, so only the final interpolation needs float64).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt


def _lerp(a: float, b: float, t: float) -> float:
    # numpy's formula for the linear method, so results equal np.percentile's.
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def percentile_window(
    arrays: Sequence[npt.NDArray[Any]], percentiles: tuple[float, float]
) -> tuple[float, float] | None:
    """The ``percentiles`` of the finite values of ``arrays`` together, as
    ``np.percentile`` (linear method) gives them; ``None`` if there are none.
    """
    values = np.concatenate([np.asarray(a).ravel() for a in arrays])
    if values.dtype.kind not in "iuf":
        values = values.astype(np.float64)
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        if not finite.all():
            values = values[finite]
    n = values.size
    if n == 0:
        return None
    # numpy's virtual index for the linear method: (n - 1) * q, q in [0, 1].
    positions = [min(max((n - 1) * (float(p) / 100), 0.0), float(n - 1)) for p in percentiles]
    below = [math.floor(v) for v in positions]
    kth = sorted({k for f in below for k in (f, min(f + 1, n - 1))})
    ordered = np.partition(values, kth)
    low, high = (
        _lerp(float(ordered[f]), float(ordered[min(f + 1, n - 1)]), v - f)
        for f, v in zip(below, positions, strict=True)
    )
    return low, high
