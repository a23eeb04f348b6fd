"""Optional dependencies of TorchIO's adapters, imported when first used."""

from __future__ import annotations

from types import ModuleType

from ..data.extras import require


def get_monai() -> ModuleType:
    return require("monai", "monai", purpose="MonaiAdapter")
