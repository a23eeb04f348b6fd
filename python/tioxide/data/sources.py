"""Image sources that are not local paths: URLs, file-like objects, fsspec files and bytes.

Each becomes a local file. Downloads and file-like objects are copied to a
temporary file that the image then reads lazily, as TorchIO does; tioxide
removes these files when the process that made them exits.
"""

from __future__ import annotations

import atexit
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from .extras import require

_REMOTE_MARK = "://"
_TEMPORARY: list[Path] = []
_OWNER = os.getpid()


def _remove_temporary_files() -> None:
    # A forked child inherits this hook; only the process that made the files removes them.
    if os.getpid() != _OWNER:
        return
    for path in _TEMPORARY:
        path.unlink(missing_ok=True)


atexit.register(_remove_temporary_files)


def write_temporary(data: bytes, suffix: str, *, keep: bool) -> Path:
    """Write ``data`` to a new temporary file named ``*{suffix}``.

    Args:
        data: The file's bytes.
        suffix: The name's ending, which tells readers the format.
        keep: Keep the file until the process exits (else the caller removes it).
    """
    fd, name = tempfile.mkstemp(prefix="tioxide-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if keep:
        _TEMPORARY.append(path)
    return path


def guess_suffix(name: str) -> str:
    """The format suffix of a path or URL (``.nii.gz`` if it has none)."""
    clean = name.split("?", maxsplit=1)[0].split("#", maxsplit=1)[0]
    if clean.lower().endswith(".gz"):
        return "".join(Path(clean).suffixes[-2:]) or ".nii.gz"
    return Path(clean).suffix or ".nii.gz"


def is_url(text: str) -> bool:
    """Whether a string is a URL (``scheme://...``) rather than a local path."""
    return _REMOTE_MARK in text


def is_fsspec_file(source: object) -> bool:
    """Whether ``source`` is an ``fsspec.core.OpenFile`` (without importing fsspec)."""
    fsspec = sys.modules.get("fsspec")
    return fsspec is not None and isinstance(source, fsspec.core.OpenFile)


def download(uri: str) -> Path:
    """Copy a remote file to a temporary local file kept until exit.

    Raises:
        ImportError: ``fsspec`` (or the protocol's own package) is missing.
        FileNotFoundError: The server says the file does not exist.
        OSError: The URL cannot be reached or read.
    """
    fsspec = require("fsspec", "remote", purpose=f"Reading {uri}")
    try:
        with fsspec.open(uri, "rb") as remote:
            data = remote.read()
    except ImportError as e:
        raise ImportError(
            f"Reading {uri} needs a package fsspec uses for this protocol ({e}); install "
            "it, or `pip install tioxide[remote]` for http(s)"
        ) from e
    except FileNotFoundError as e:
        # fsspec's HTTP client reports unreachable hosts as missing files too; the
        # cause tells them apart.
        cause = e.__cause__
        if cause is None or getattr(cause, "status", None) == 404:
            raise FileNotFoundError(f"{uri}: no such remote file") from None
        raise _download_error(uri, cause) from e
    except Exception as e:  # aiohttp and the other clients raise types of their own
        raise _download_error(uri, e) from e
    return write_temporary(data, guess_suffix(uri), keep=True)


def _download_error(uri: str, cause: BaseException) -> OSError:
    return OSError(f"{uri}: cannot download the image ({type(cause).__name__}: {cause})")


def copy_open_file(source: Any) -> Path:
    """Copy an ``fsspec.core.OpenFile`` to a temporary local file kept until exit."""
    with source as f:
        data = f.read()
    return write_temporary(data, guess_suffix(str(source.path)), keep=True)


def copy_file_like(source: io.IOBase, suffix: str | None) -> Path:
    """Copy what is left in a binary file-like object to a temporary file kept until exit.

    Raises:
        ValueError: No ``suffix`` (the format cannot be told from a stream).
        TypeError: The object yields text, not bytes.
    """
    if suffix is None:
        raise ValueError(
            "A 'suffix' (e.g. '.nii.gz') is required when passing a file-like object "
            "so the reader can detect the format"
        )
    data = source.read()
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(
            f"File-like image sources must be opened in binary mode; read() returned "
            f"{type(data).__name__}"
        )
    return write_temporary(bytes(data), suffix, keep=True)


def resolve_source(
    source: str | os.PathLike[str] | io.IOBase | Any, *, suffix: str | None = None
) -> Path:
    """The local path an image made from ``source`` reads.

    Args:
        source: A local path, a URL (``https://...``, any fsspec protocol), an
            ``fsspec.core.OpenFile``, or a binary file-like object.
        suffix: The format of a file-like object (``".nii.gz"``, ``".nrrd"``).

    Raises:
        TypeError: Another kind of object.
    """
    if isinstance(source, Path):
        return source
    if isinstance(source, str):
        return download(source) if is_url(source) else Path(source)
    if isinstance(source, os.PathLike):
        return Path(os.fspath(source))
    if is_fsspec_file(source):
        return copy_open_file(source)
    if isinstance(source, io.IOBase):
        return copy_file_like(source, suffix)
    raise TypeError(
        "Expected a path, URL, file-like object, bytes, tensor, numpy array, nibabel image, "
        f"SimpleITK image or zarr store, got {type(source).__name__}"
    )


def _instance_of(source: object, module: str, attribute: str) -> bool:
    """``isinstance(source, module.attribute)``, False when that module was never imported.

    An object of a class from a module exists only once that module is
    imported, so checking ``sys.modules`` avoids importing heavy optional
    packages for every image.
    """
    owner = sys.modules.get(module)
    kind = getattr(owner, attribute, None) if owner is not None else None
    return isinstance(kind, type) and isinstance(source, kind)


def is_nibabel_image(source: object) -> bool:
    """Whether ``source`` is a nibabel spatial image (``Nifti1Image``, ``Nifti2Image`` ...)."""
    return _instance_of(source, "nibabel.spatialimages", "SpatialImage")


def is_sitk_image(source: object) -> bool:
    """Whether ``source`` is a ``SimpleITK.Image``."""
    return _instance_of(source, "SimpleITK", "Image")


def is_zarr_store(source: object) -> bool:
    """Whether ``source`` is an open zarr store (``zarr.abc.store.Store``)."""
    return _instance_of(source, "zarr.abc.store", "Store")
