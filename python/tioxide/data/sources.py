"""Image sources that are not local paths: URLs, file-like objects, fsspec files and bytes.

A single-file NIfTI image (``.nii``, ``.nii.gz``) at a URL or in a binary file
object is read in place, as local files are: the header when first needed,
then only the byte ranges a region needs (:class:`UrlSource`,
:class:`FileSource`). Other formats, which SimpleITK reads from files only,
are copied to a temporary file that the image then reads lazily, as TorchIO
does; tioxide removes these files when the process that made them exits.
"""

from __future__ import annotations

import atexit
import io
import os
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy.typing as npt

from .. import nifti, remote
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
    with _remote_errors(uri):
        with fsspec.open(uri, "rb") as f:
            data = f.read()
    return write_temporary(data, guess_suffix(uri), keep=True)


@contextmanager
def _remote_errors(uri: str) -> Iterator[None]:
    """Turn what fsspec and its clients raise into errors that name ``uri``.

    Errors about the image's content (``ValueError`` and its subclasses such
    as :class:`~tioxide.NiftiError`, bad indices) already name it and pass through.
    """
    try:
        yield
    except (ValueError, IndexError, TypeError, MemoryError):
        raise
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


def _download_error(uri: str, cause: BaseException) -> OSError:
    return OSError(f"{uri}: cannot download the image ({type(cause).__name__}: {cause})")


def copy_open_file(source: Any) -> Path:
    """Copy an ``fsspec.core.OpenFile`` to a temporary local file kept until exit."""
    with source as f:
        data = f.read()
    return write_temporary(data, guess_suffix(str(source.path)), keep=True)


def _check_file_like(source: io.IOBase, suffix: str | None) -> None:
    """Refuse a file-like source without ``suffix``, closed, or in text mode.

    Raises:
        ValueError: No ``suffix`` (the format cannot be told from a stream), or
            the object is closed.
        TypeError: The object yields text, not bytes.
    """
    if suffix is None:
        raise ValueError(
            "A 'suffix' (e.g. '.nii.gz') is required when passing a file-like object "
            "so the reader can detect the format"
        )
    if source.closed:
        raise ValueError(f"{_file_name(source)}: the file object given as the image is closed")
    # A zero-byte read tells text from binary without moving the position.
    probe = source.read(0)
    if not isinstance(probe, bytes | bytearray | memoryview):
        raise TypeError(
            f"File-like image sources must be opened in binary mode; read() returned "
            f"{type(probe).__name__}"
        )


def copy_file_like(source: io.IOBase, suffix: str | None) -> Path:
    """Copy what is left in a binary file-like object to a temporary file kept until exit.

    Raises:
        ValueError: No ``suffix`` (the format cannot be told from a stream), or
            the object is closed.
        TypeError: The object yields text, not bytes.
    """
    _check_file_like(source, suffix)
    assert suffix is not None
    data = source.read()
    return write_temporary(bytes(data), suffix, keep=True)


#: Suffixes of the images read in place from URLs, file objects and bytes: a
#: single stream of bytes holds all of a single-file NIfTI image.
IN_PLACE_SUFFIXES = (".nii", ".nii.gz")


def reads_in_place(suffix: str) -> bool:
    """Whether a source with this suffix is read in place (single-file NIfTI)."""
    return suffix.lower() in IN_PLACE_SUFFIXES


def _file_name(file: object) -> str:
    """What a file object is called in messages: its path, else ``<TypeName>``."""
    name = getattr(file, "path", None) or getattr(file, "name", None)
    return os.fspath(name) if isinstance(name, str | os.PathLike) else f"<{type(file).__name__}>"


class StreamSource:
    """A single-file NIfTI image read in place: at a URL or in a file object.

    :class:`~tioxide.data.nifti_backend.NiftiBackend` reads its header once
    and then each region through :func:`tioxide.nifti.read`, which asks for
    only the byte ranges the region needs.

    Attributes:
        name: The source in messages (the URL, the file object's name).
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def display_name(self) -> str:
        """The short name ``repr`` shows, as it shows a local file's name."""
        return self.name

    def read_header(self) -> nifti.NiftiHeader:
        """The image's header."""
        raise NotImplementedError

    def read(self, region: Any = None) -> npt.NDArray[Any]:
        """Voxels in file order, all or ``region`` (see :func:`tioxide.nifti.read`)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class UrlSource(StreamSource):
    """A ``.nii`` or ``.nii.gz`` at a URL, read through :mod:`tioxide.remote`.

    Each read asks fsspec for the byte ranges it needs (HTTP range requests);
    a ``.nii.gz`` uses its saved seek index (``URL.tioxidx``) if the server
    has one. A server that does not serve byte ranges gets the file
    downloaded once to a temporary file (kept until exit), then read from there.

    Args:
        url: Any URL fsspec opens (``https://``, ``s3://`` ...).
        **storage_options: Passed to fsspec (credentials, headers ...).

    Raises:
        ImportError: ``fsspec`` is missing (the ``remote`` extra).
    """

    __slots__ = ("_local", "options")

    def __init__(self, url: str, **storage_options: Any) -> None:
        require("fsspec", "remote", purpose=f"Reading {url}")
        super().__init__(url)
        self.options = storage_options
        self._local: Path | None = None

    @property
    def display_name(self) -> str:
        """The last part of the URL's path (the file name)."""
        path = urllib.parse.urlsplit(self.name).path
        return path.rstrip("/").rsplit("/", maxsplit=1)[-1] or self.name

    def check(self) -> None:
        """Ask the server whether the file is there (no body is fetched).

        Raises:
            FileNotFoundError: The server says the file does not exist.
            OSError: The URL cannot be reached.
        """
        fsspec = require("fsspec", "remote", purpose=f"Reading {self.name}")
        with _remote_errors(self.name):
            fs, path = fsspec.core.url_to_fs(self.name, **self.options)
            info = fs.info(path)
        # Reading in place needs the size (to seek from the end) and byte ranges.
        if "size" not in info or info.get("size") is None or info.get("partial") is False:
            self._download()

    def _download(self) -> Path:
        if self._local is None:
            # Two threads may both get here; each download is complete and valid.
            self._local = download(self.name)
        return self._local

    @contextmanager
    def _falling_back(self) -> Iterator[None]:
        """Errors named after the URL; a server that refuses ranges raises ``_NoRanges``."""
        try:
            with _remote_errors(self.name):
                yield
        except OSError as e:
            # fsspec says so only in its message (the core passes it on as text).
            if "support range requests" in str(e):
                raise _NoRanges from e
            raise

    def read_header(self) -> nifti.NiftiHeader:
        """The header: for a ``.nii.gz``, the compressed bytes up to its end."""
        if self._local is None:
            try:
                with self._falling_back():
                    return remote.read_header(self.name, **self.options)
            except _NoRanges:
                pass
        return nifti.read_header(self._download())

    def read(self, region: Any = None) -> npt.NDArray[Any]:
        """Voxels, fetching only the byte ranges ``region`` needs."""
        if self._local is None:
            try:
                with self._falling_back():
                    return remote.read(self.name, region, **self.options)
            except _NoRanges:
                pass
        return nifti.read(self._download(), region)


class _NoRanges(Exception):
    """The server answered a range request with the whole file."""


class _Window:
    """The bytes of a file object from ``start`` on, as a file object of their own.

    The core reads at absolute offsets, but a file-like source is read from
    where its position was when given (TorchIO copies what is left in it).
    The window also carries the name the core puts in its messages.
    """

    __slots__ = ("_file", "_start", "name")

    def __init__(self, file: Any, start: int, name: str) -> None:
        self._file = file
        self._start = start
        self.name = name

    def seek(self, offset: int, whence: int = 0, /) -> int:
        base = self._start if whence == os.SEEK_SET else 0
        position: int = self._file.seek(base + offset, whence)
        return position - self._start

    def read(self, size: int = -1, /) -> bytes:
        data: bytes = self._file.read(size)
        return data


class FileSource(StreamSource):
    """A ``.nii`` or ``.nii.gz`` in a seekable binary file object, read in place.

    Nothing is copied: the header is read now, regions when they are asked
    for, so the object must stay open until the image is loaded. A reference
    to it is kept. Reads take a lock (a file object has one position) and
    leave the object's position anywhere. A pickled source carries a copy of
    the bytes (a file object cannot cross processes).

    Args:
        file: The file object; the image starts at its current position.
        name: The source in messages; the object's name by default.

    Raises:
        ValueError: The object is closed, or is not NIfTI
            (:class:`~tioxide.NiftiError`, naming the source).
    """

    __slots__ = ("_file", "_header", "_key", "_lock", "_window")

    def __init__(self, file: Any, name: str | None = None) -> None:
        super().__init__(name or _file_name(file))
        self._file = file
        self._window = _Window(file, file.tell(), self.name)
        self._lock = threading.Lock()
        # The core caches a gzip seek index and inflated chunks under this key,
        # so region reads after the first need not inflate from the start again.
        self._key = f"file-object:{uuid.uuid4()}"
        with self._reading() as f:
            self._header = nifti.read_header(f, cache_key=self._key)

    @property
    def display_name(self) -> str:
        """The object's file name, or ``<TypeName>`` for objects without one."""
        return Path(self.name).name if not self.name.startswith("<") else self.name

    @property
    def file(self) -> Any:
        """The file object read."""
        return self._file

    @contextmanager
    def _reading(self) -> Iterator[_Window]:
        with self._lock:
            if getattr(self._file, "closed", False):
                raise ValueError(
                    f"{self.name}: the file object given as the image was closed before "
                    "the image was loaded; keep it open until then (or call load() first)"
                )
            yield self._window

    def read_header(self) -> nifti.NiftiHeader:
        """The header, read when the source was made."""
        return self._header

    def read(self, region: Any = None) -> npt.NDArray[Any]:
        """Voxels, reading only the bytes ``region`` needs."""
        with self._reading() as f:
            return nifti.read(f, region, cache_key=self._key)

    def _snapshot(self) -> bytes:
        with self._reading() as f:
            f.seek(0)
            return f.read()

    def __reduce__(self) -> tuple[Any, ...]:
        return (FileSource, (io.BytesIO(self._snapshot()), self.name))

    def __copy__(self) -> FileSource:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FileSource:
        # An open file cannot be duplicated; copies of an image share it.
        return self


def in_place_source(source: object, *, suffix: str | None = None) -> StreamSource | None:
    """The in-place reader of ``source``, or None if it is read another way.

    URLs, remote ``fsspec.core.OpenFile`` objects and seekable binary file
    objects holding ``.nii`` or ``.nii.gz`` are read in place; other
    formats (and local ``OpenFile`` objects) are copied to a temporary file by
    :func:`resolve_source`, and local paths are read as they are.

    Raises:
        FileNotFoundError, OSError: A URL that does not exist or cannot be reached.
        ImportError: A URL and no ``fsspec``.
        ValueError, TypeError: A file-like object without ``suffix``, closed,
            in text mode, or not NIfTI.
    """
    if isinstance(source, StreamSource):
        return source
    if is_fsspec_file(source):
        # A remote file fsspec has opened is read in place as its URL is, with
        # the file system's options; a local one is copied, as TorchIO does.
        open_file: Any = source
        name: str = open_file.full_name
        if _is_file_url(name) or not reads_in_place(guess_suffix(name)):
            return None
        remote_file = UrlSource(name, **open_file.fs.storage_options)
        remote_file.check()
        return remote_file
    if isinstance(source, str) and is_url(source) and not _is_file_url(source):
        if not reads_in_place(guess_suffix(source)):
            return None
        url = UrlSource(source)
        # TorchIO downloads at once; asking for the file's size now keeps a
        # missing or unreachable URL an error of the constructor.
        url.check()
        return url
    if isinstance(source, io.IOBase):
        _check_file_like(source, suffix)
        assert suffix is not None
        if not reads_in_place(suffix) or not source.seekable():
            return None
        return FileSource(source)
    return None


def _is_file_url(text: str) -> bool:
    return text.lower().startswith("file://")


def _file_url_path(url: str) -> Path:
    """The local path of a ``file://`` URL."""
    return Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))


def resolve_source(
    source: str | os.PathLike[str] | io.IOBase | Any, *, suffix: str | None = None
) -> Path:
    """The local path an image made from ``source`` reads.

    Args:
        source: A local path, a URL (``https://...``, any fsspec protocol; a
            ``file://`` URL is its local path), an ``fsspec.core.OpenFile``,
            or a binary file-like object.
        suffix: The format of a file-like object (``".nii.gz"``, ``".nrrd"``).

    Raises:
        TypeError: Another kind of object.
    """
    if isinstance(source, Path):
        return source
    if isinstance(source, str):
        if _is_file_url(source):
            return _file_url_path(source)
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
