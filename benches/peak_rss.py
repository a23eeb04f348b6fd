"""Peak RSS as the benchmarks measure it: after the imports, the peak is reset
(``5`` written to ``/proc/self/clear_refs``) and ``VmHWM`` read back after the
work, so that import peaks do not hide it."""

from __future__ import annotations

from pathlib import Path


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset() -> int:
    """Reset the peak to the current RSS; returns it (KiB), the baseline."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmHWM")


def above(baseline: int) -> int:
    """Bytes the peak rose above ``baseline`` since :func:`reset`."""
    return (_status_kib("VmHWM") - baseline) * 1024
