"""Images at URLs (HTTP(S), S3 ... anything fsspec opens), read without
downloading them: the header, and for a region only the compressed bytes
of the seek-index chunks that hold it.

A ``.nii.gz`` read this way looks for its saved index next to it
(``URL.tioxidx``, written by ``tioxide index``); without one, the first
region read fetches the stream up to the region's end to build the index.
Requires the ``remote`` extra (``pip install "tioxide[remote]"``).
"""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

import numpy.typing as npt

from . import nifti

__all__ = ["read", "read_header"]

# Fields of fsspec's `info` that change when a file's contents do.
_VERSION_FIELDS = ("ETag", "etag", "LastModified", "last_modified", "mtime")


def _fsspec() -> Any:
    try:
        import fsspec  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError('reading URLs needs fsspec: pip install "tioxide[remote]"') from None
    return fsspec


@functools.lru_cache(maxsize=256)
def _saved_index(url: str, key: str, options: tuple[tuple[str, Any], ...]) -> bytes | None:
    """The ``.tioxidx`` next to ``url``, fetched once per version of the file."""
    fs, path = _fsspec().core.url_to_fs(_sidecar_url(url), **dict(options))
    try:
        data: bytes = fs.cat_file(path)
    except (FileNotFoundError, OSError):
        return None
    return data


def _sidecar_url(url: str) -> str:
    """``url`` with ``.tioxidx`` appended to its path (before any query or fragment)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.query and not parts.fragment:
        return url + ".tioxidx"
    # Appended after "?download=1", the suffix would be part of the query and
    # many servers would answer with the image itself.
    return urllib.parse.urlunsplit(parts._replace(path=parts.path + ".tioxidx", fragment=""))


def _open(
    url: str, options: dict[str, Any], *, with_index: bool = True
) -> tuple[Any, str, bytes | None]:
    fs, path = _fsspec().core.url_to_fs(url, **options)
    info = fs.info(path)
    version = next(
        (
            str(info[k])
            for k in ("ETag", "etag", "LastModified", "mtime", "last_modified")
            if k in info
        ),
        "",
    )
    key = f"{url}\0{info.get('size')}\0{version}"
    index = _saved_index(url, key, tuple(sorted(options.items()))) if with_index else None
    # No read-ahead: every read the core makes fetches exactly its range.
    file = fs.open(path, "rb", cache_type="none")
    return file, key, index


def read_header(url: str, **storage_options: Any) -> nifti.NiftiHeader:
    """The header of the single-file image at ``url`` (``.nii`` or ``.nii.gz``).

    For a ``.nii.gz`` this fetches the compressed bytes of the first chunk of
    the stream, not its saved index: only region reads need that.
    """
    file, key, _ = _open(url, storage_options, with_index=False)
    with file:
        # A cache key of its own: under the image's key the core would
        # remember the stream as having no saved index, and later region
        # reads would ignore the index they bring.
        return nifti.read_header(file, cache_key=key + "\0header")


def read(url: str, region: Any = None, **storage_options: Any) -> npt.NDArray[Any]:
    """Voxels of the image at ``url``, all or only ``region`` (see :func:`tioxide.nifti.read`).

    ``storage_options`` go to fsspec (credentials, headers ...).
    """
    file, key, index = _open(url, storage_options)
    with file:
        return nifti.read(file, region, cache_key=key, index=index)
