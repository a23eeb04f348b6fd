"""Import an optional dependency, or say which extra installs it."""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from types import ModuleType


def require(module: str, extra: str, package: str | None = None) -> ModuleType:
    """``module`` imported.

    Raises:
        ImportError: It is not installed; the message names the pip package
            and the tioxide extra that brings it.
    """
    if find_spec(module) is None:
        name = package or module
        raise ImportError(
            f"this needs the `{name}` package: `pip install {name}` "
            f"(or `pip install tioxide[{extra}]`)"
        )
    return import_module(module)


def get_monai() -> ModuleType:
    return require("monai", "monai")
