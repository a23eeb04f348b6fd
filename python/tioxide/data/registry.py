"""Which backend reads an image: an ordered registry of (matcher, factory) pairs.

An :class:`~tioxide.data.image.Image` describes its source as a
:class:`BackendRequest`; :func:`resolve_backend` hands it to the first
registered backend whose matcher accepts it. New formats plug in with
:func:`register_backend` (consulted before the built-ins by default) or with a
reader that implements :class:`LazyReader`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from torch import Tensor


@runtime_checkable
class ImageDataBackend(Protocol):
    """What every backend provides, whatever holds the voxels.

    ``shape`` is ``(C, I, J, K)`` (a 3D file has one channel), ``affine`` a
    float64 4 x 4 tensor, ``dtype`` the stored numpy dtype; indexing takes the
    index expressions of ``Image.__getitem__`` and returns a 4D tensor (integer
    indices keep their axis); ``to_tensor`` returns all voxels.
    """

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, I, J, K)``."""
        ...

    @property
    def affine(self) -> Tensor:
        """The 4 x 4 float64 voxel-to-world affine."""
        ...

    @property
    def dtype(self) -> np.dtype[Any]:
        """The stored dtype."""
        ...

    def __getitem__(self, item: Any) -> Tensor:
        """A region as a 4D ``(C, I, J, K)`` tensor."""
        ...

    def to_tensor(self) -> Tensor:
        """All voxels as a 4D ``(C, I, J, K)`` tensor."""
        ...


@dataclass(frozen=True)
class BackendRequest:
    """An image source, as matchers and factories see it.

    Attributes:
        path: A local file (remote and file-like sources are already
            downloaded to one).
        remote_zarr_uri: A remote ``.nii.zarr`` URI.
        zarr_store: An open zarr store.
        affine: A 4 x 4 affine that replaces the source's.
        reader_kwargs: Keyword arguments for the reader.
        reader: The image's reader; a :class:`LazyReader` builds the backend.
    """

    path: Path | None = None
    remote_zarr_uri: str | None = None
    zarr_store: Any = None
    affine: Tensor | None = None
    reader_kwargs: Mapping[str, Any] = field(default_factory=dict)
    reader: Any = None


@runtime_checkable
class LazyReader(Protocol):
    """A custom reader that can build a lazy backend instead of loading everything.

    Plain readers are callables returning ``(tensor, affine)`` and are called
    for every load. A reader that also has ``create_backend`` is asked for a
    backend first, so that shape, affine, dtype and regions need no full read.
    """

    def create_backend(self, request: BackendRequest) -> ImageDataBackend:
        """The backend for ``request``."""
        ...


#: Whether a backend can read a request.
BackendMatcher = Callable[[BackendRequest], bool]
#: Builds the backend for a request.
BackendFactory = Callable[[BackendRequest], ImageDataBackend]


@dataclass(frozen=True)
class _Entry:
    name: str
    matcher: BackendMatcher
    factory: BackendFactory


_REGISTRY: list[_Entry] = []


def register_backend(
    name: str, matcher: BackendMatcher, factory: BackendFactory, *, prepend: bool = True
) -> None:
    """Add a backend, replacing any registered under the same name.

    Args:
        name: The backend's name (for :func:`unregister_backend`).
        matcher: ``matcher(request)`` says whether the backend reads the request.
        factory: ``factory(request)`` builds the backend.
        prepend: Consult it before the backends already registered (the
            default, so custom backends win over the built-ins), or after.

    Raises:
        TypeError: ``name`` is not a string, or ``matcher``/``factory`` not callable.
    """
    if not isinstance(name, str):
        raise TypeError(f"Backend name must be a str, got {type(name).__name__}")
    for role, function in (("matcher", matcher), ("factory", factory)):
        if not callable(function):
            raise TypeError(f"Backend {name!r}: {role} must be callable, got {function!r}")
    unregister_backend(name)
    entry = _Entry(name, matcher, factory)
    if prepend:
        _REGISTRY.insert(0, entry)
    else:
        _REGISTRY.append(entry)


def unregister_backend(name: str) -> None:
    """Remove the backend registered as ``name``; nothing happens if there is none."""
    _REGISTRY[:] = [entry for entry in _REGISTRY if entry.name != name]


def resolve_backend(request: BackendRequest) -> ImageDataBackend | None:
    """Build the backend of the first registered matcher that accepts ``request``.

    Returns:
        The backend, or ``None`` if no backend matches.
    """
    for entry in _REGISTRY:
        if entry.matcher(request):
            return entry.factory(request)
    return None


def registered_backends() -> list[str]:
    """The names of the registered backends, in the order they are consulted."""
    return [entry.name for entry in _REGISTRY]
