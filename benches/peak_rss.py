"""Peak RSS as the benchmarks measure it: after the imports, the peak is reset
(``5`` written to ``/proc/self/clear_refs``) and ``VmHWM`` read back after the
work, so that import peaks do not hide it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


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


def in_child(script: str, *args: str) -> Any:
    """Run ``script --rss-child ARGS`` in a fresh interpreter and parse the
    last line it prints as JSON (the child measures with :func:`reset` and
    :func:`above`)."""
    out = subprocess.run(
        [sys.executable, script, "--rss-child", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
