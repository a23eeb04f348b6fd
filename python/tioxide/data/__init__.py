"""TorchIO-compatible data classes.

Importing this package imports torch.
"""

from __future__ import annotations

from .affine import AffineMatrix

__all__ = ["AffineMatrix"]
