"""Sample images shipped with the package."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def phantom_path() -> Path:
    """Path of a small head-like phantom (64x72x48 int16, oblique LPS affine, ``.nii.gz``)."""
    return _HERE / "phantom.nii.gz"


__all__ = ["phantom_path"]
