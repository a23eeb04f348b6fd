"""The type stubs of the extension match it: ``python -m mypy.stubtest
tioxide._core`` (names, signatures, classes, ``__all__``) passes."""

from __future__ import annotations

import subprocess
import sys


def test_stubtest_passes() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "tioxide._core", "--ignore-unused-allowlist"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Success" in run.stdout
