"""Human-readable sizes for ``repr``, in binary units as TorchIO prints them."""

from __future__ import annotations

import math

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB", "RiB", "QiB")


def binary_size(size: int) -> str:
    """Format a byte count: ``'1 Byte'``, ``'120 Bytes'``, ``'1.5 KiB'``, ``'2.0 MiB'``.

    One decimal above 1023 bytes; the unit is the largest power of 1024 not
    above the size, moving up one unit when rounding reaches 1024.
    """
    magnitude = abs(size)
    if magnitude == 1:
        return f"{size} Byte"
    if magnitude < 1024:
        return f"{size} Bytes"
    power = min(int(math.log(magnitude, 1024)), len(_UNITS))
    if power < len(_UNITS) and abs(float(f"{magnitude / 1024**power:.1f}")) >= 1024:
        power += 1
    return f"{size / 1024**power:.1f} {_UNITS[power - 1]}"
