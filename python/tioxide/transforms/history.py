"""The record a transform leaves in the history of what it transformed, and the registry.

Every :class:`~tioxide.transforms.Transform` subclass is registered under its
class name when it is defined; inverting a history looks the records' names
up there (as TorchIO 2 does, so records stay plain data that pickle anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .transform import Transform


@dataclass
class AppliedTransform:
    """One applied transform: its class name, the parameters it used, and its scope.

    Attributes:
        name: The transform's class name (a key of the registry).
        params: The parameters actually applied (sampled ones included).
        include: The ``include`` names of the transform when applied.
        exclude: The ``exclude`` names of the transform when applied.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    include: list[str] | None = None
    exclude: list[str] | None = None


#: Transform classes by class name, filled by ``Transform.__init_subclass__``.
_TRANSFORM_REGISTRY: dict[str, type[Transform]] = {}


def register(cls: type[Transform]) -> None:
    """Make ``cls`` findable by name when a history is inverted."""
    _TRANSFORM_REGISTRY[cls.__name__] = cls


def lookup(name: str) -> type[Transform] | None:
    """The transform class registered as ``name``, if any."""
    return _TRANSFORM_REGISTRY.get(name)
