"""Optional dependencies: import them on demand, or say which extra installs them."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


def require(module: str, extra: str, *, package: str | None = None, purpose: str) -> ModuleType:
    """Import ``module``, or raise an ``ImportError`` naming the ``pip install`` to run.

    Args:
        module: The module to import (``"SimpleITK"``, ``"fsspec"`` ...).
        extra: The tioxide extra that installs it.
        package: The distribution name, when it differs from ``module``.
        purpose: What needs it, for the message (``"reading NRRD files"``).

    Raises:
        ImportError: The module is not installed.
    """
    if importlib.util.find_spec(module.split(".")[0]) is None:
        raise ImportError(
            f"{purpose} needs the `{package or module}` package; install it with "
            f"`pip install tioxide[{extra}]`"
        )
    return importlib.import_module(module)
