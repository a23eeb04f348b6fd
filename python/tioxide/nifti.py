"""Low-level NIfTI/ANALYZE access, nibabel-like, backed by the Rust core.

>>> from tioxide import nifti
>>> hdr = nifti.read_header("brain.nii.gz")          # doctest: +SKIP
>>> hdr.shape, hdr.dtype, hdr.orientation           # doctest: +SKIP
>>> patch = nifti.read("brain.nii.gz", (slice(0, 32),) * 3)  # doctest: +SKIP

``read(path, region)`` equals ``np.asanyarray(nib.load(path).dataobj)[region]``
in values, dtype and shape, except that arrays are always in native byte order.
"""

from __future__ import annotations

import numbers
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
import numpy.typing as npt

from . import _core

PathLike: TypeAlias = "str | os.PathLike[str]"


@runtime_checkable
class BinaryFile(Protocol):
    """A seekable binary file object (open file, ``io.BytesIO``, fsspec file ...)."""

    def read(self, size: int = ..., /) -> bytes: ...
    def seek(self, offset: int, whence: int = ..., /) -> int: ...


Source: TypeAlias = "PathLike | BinaryFile"


def _is_file(source: object) -> bool:
    return not isinstance(source, str | os.PathLike) and isinstance(source, BinaryFile)


def _stream_name(source: BinaryFile) -> str:
    name = getattr(source, "path", None) or getattr(source, "name", None)
    return str(name) if isinstance(name, str | os.PathLike) else f"<{type(source).__name__}>"


_RGB = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1")])
_RGBA = np.dtype([("R", "u1"), ("G", "u1"), ("B", "u1"), ("A", "u1")])
_SPECIAL = {"RGB": _RGB, "RGBA": _RGBA}
# Header fields the writer derives itself; never copied from a template header.
_STRUCTURAL = {
    "sizeof_hdr",
    "dim",
    "datatype",
    "bitpix",
    "vox_offset",
    "magic",
    "pixdim",
    "srow_x",
    "srow_y",
    "srow_z",
    "quatern_b",
    "quatern_c",
    "quatern_d",
    "qoffset_x",
    "qoffset_y",
    "qoffset_z",
    "scl_slope",
    "scl_inter",
}


def _numpy_dtype(code: str) -> np.dtype[Any]:
    special = _SPECIAL.get(code.lstrip("|<>"))
    return special if special is not None else np.dtype(code)


class NiftiHeader(Mapping[str, Any]):
    """A parsed header: derived properties plus every field by its NIfTI name.

    Fields are available as items (``hdr["pixdim"]``) and attributes
    (``hdr.pixdim``); arrays come back as numpy arrays, strings as bytes.
    """

    __slots__ = ("_h",)

    def __init__(self, core: _core.NiftiHeader) -> None:
        self._h = core

    @property
    def shape(self) -> tuple[int, ...]:
        """Data shape in file order (``dim[1:dim[0]+1]``)."""
        return tuple(self._h.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        """dtype of the stored values, with the file's byte order (nibabel's ``get_data_dtype``)."""
        return _numpy_dtype(self._h.dtype_str)

    @property
    def datatype(self) -> int:
        """NIfTI datatype code."""
        return self._h.datatype

    @property
    def byte_order(self) -> str:
        """``'<'`` (little-endian) or ``'>'`` (big-endian)."""
        return self._h.byte_order

    @property
    def format(self) -> str:
        """``'nifti1'``, ``'nifti2'`` or ``'analyze'``."""
        return self._h.format

    @property
    def single_file(self) -> bool:
        """True for single-file images (``n+1``/``n+2``)."""
        return self._h.single_file

    @property
    def vox_offset(self) -> int:
        """Byte offset of the voxels in the data file."""
        return self._h.vox_offset

    @property
    def affine(self) -> npt.NDArray[np.float64]:
        """The best affine (sform, else qform, else from pixdim), as nibabel."""
        return self._h.affine

    def get_qform(self) -> npt.NDArray[np.float64] | None:
        """The qform affine, or None when ``qform_code`` is 0."""
        return self._h.qform()

    def get_sform(self) -> npt.NDArray[np.float64] | None:
        """The sform affine, or None when ``sform_code`` is 0."""
        return self._h.sform()

    @property
    def zooms(self) -> tuple[float, ...]:
        """Voxel sizes from ``pixdim`` (nibabel's ``get_zooms()``)."""
        return tuple(self._h.zooms)

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Spacing of the first three axes from the affine (TorchIO's definition)."""
        sx, sy, sz = self._h.spacing
        return (sx, sy, sz)

    @property
    def orientation(self) -> str:
        """Orientation codes such as ``'RAS'`` (nibabel's ``aff2axcodes``)."""
        return self._h.orientation

    @property
    def scaling(self) -> tuple[float, float] | None:
        """``(slope, intercept)`` applied when reading, or None for raw values."""
        return self._h.scaling

    @property
    def extensions(self) -> list[tuple[int, bytes]]:
        """Header extensions as ``(code, content)``."""
        return self._h.extensions

    @property
    def header_path(self) -> str:
        """The file holding the header."""
        return os.fspath(self._h.header_path)

    @property
    def data_path(self) -> str:
        """The file holding the voxels."""
        return os.fspath(self._h.data_path)

    def __getitem__(self, name: str) -> Any:
        value = self._h.field(name)
        if isinstance(value, tuple):
            return np.array(value)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._h.keys())

    def __len__(self) -> int:
        return len(self._h.keys())

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return (
            f"NiftiHeader(format={self.format!r}, shape={self.shape}, dtype={self.dtype}, "
            f"orientation={self.orientation!r}, path={self.header_path!r})"
        )


def clear_cache() -> None:
    """Forget cached headers, memory maps, seek indexes and inflated chunks.

    Reads cache each file's parsed header, for region reads from ``.nii`` its
    memory map, and for ``.nii.gz`` its seek index and recently inflated
    chunks (see :mod:`tioxide.gz`). Entries are revalidated with ``stat`` (device, inode, size,
    mtime) on every use, so this is never needed for correctness; it releases
    the memory and lets benchmarks measure cold reads.
    """
    _core.clear_cache()


def read_header(
    path: Source, *, cache_key: str | None = None, index: bytes | None = None
) -> NiftiHeader:
    """Read only the header of ``path`` (``.nii``, ``.nii.gz``, ``.hdr``/``.img``, ``.img.gz``)."""
    if _is_file(path):
        return NiftiHeader(
            _core.read_header_stream(path, _stream_name(path), cache_key, index)  # type: ignore[arg-type]
        )
    return NiftiHeader(_core.read_header(path))  # type: ignore[arg-type]


def _is_int(item: object) -> bool:
    return isinstance(item, numbers.Integral) and not isinstance(item, bool | np.bool_)


def normalize_region(
    region: Any, shape: tuple[int, ...]
) -> tuple[list[tuple[int, int, int]], tuple[int, ...]]:
    """Turn a numpy-style index into per-axis ``(start, step, count)`` plus the result shape.

    Supports slices (any step), integers (the axis is dropped), one Ellipsis
    and None (a new axis), as numpy basic indexing does.

    Raises:
        IndexError: an integer is out of range or there are too many indices.
        TypeError: an index is not a slice, integer, Ellipsis or None.
    """
    items = region if isinstance(region, tuple) else (region,)
    ellipses = sum(1 for it in items if it is Ellipsis)
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    real = sum(1 for it in items if it is not None and it is not Ellipsis)
    if real > len(shape):
        raise IndexError(
            f"too many indices: image is {len(shape)}-dimensional, but {real} were indexed"
        )
    fill = (slice(None),) * (len(shape) - real)
    if ellipses:
        at = next(i for i, it in enumerate(items) if it is Ellipsis)
        items = items[:at] + fill + items[at + 1 :]
    else:
        items = items + fill
    axes: list[tuple[int, int, int]] = []
    out_shape: list[int] = []
    for item in items:
        if item is None:
            out_shape.append(1)
            continue
        axis = len(axes)
        n = shape[axis]
        if isinstance(item, slice):
            start, stop, step = item.indices(n)
            count = len(range(start, stop, step))
            axes.append((start, step, count) if count else (0, 1, 0))
            out_shape.append(count)
        elif _is_int(item):
            i = int(item)  # type: ignore[call-overload,unused-ignore]
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {n}")
            axes.append((i % n, 1, 1))
        else:
            raise TypeError(
                "only integers, slices, Ellipsis and None are valid indices, "
                f"got {type(item).__name__}"
            )
    return axes, tuple(out_shape)


def _to_array(raw: tuple[npt.NDArray[np.uint64], int, int, str, list[int]]) -> npt.NDArray[Any]:
    words, offset, nbytes, dtype, shape = raw
    flat = words.view(np.uint8)[offset : offset + nbytes]
    return flat.view(_numpy_dtype(dtype)).reshape(shape, order="F")


def read(
    path: Source,
    region: Any = None,
    *,
    cache_key: str | None = None,
    index: bytes | None = None,
) -> npt.NDArray[Any]:
    """Read the voxels of ``path``, scaled as nibabel does, all or only ``region``.

    Args:
        path: the image (any of its files for a pair), or a seekable binary
            file object holding a single-file image (``.nii`` or ``.nii.gz``
            bytes): an open file, ``io.BytesIO``, an fsspec file over HTTP.
        region: a numpy basic index (tuple of slices, ints, Ellipsis, None) in
            the file's axis order. Only the bytes the region needs are read
            (``.nii``: memory map; ``.nii.gz``: the chunks of its seek index
            that hold the region, see :mod:`tioxide.gz`).
        cache_key: for a file object, a string identifying its contents (for
            example URL, size and ETag): its seek index and inflated chunks
            are then cached across calls. Without one, nothing is cached.
        index: for a gzipped file object, the bytes of its saved seek index
            (a ``.tioxidx`` sidecar); ignored with a warning if it does not match.

    Returns:
        A Fortran-ordered array in native byte order, equal to
        ``np.asanyarray(nib.load(path).dataobj)[region]``.
    """
    if _is_file(path):
        return _read_stream(path, region, cache_key, index)  # type: ignore[arg-type]
    if region is None:
        return _to_array(_core.read(path))  # type: ignore[arg-type]
    name = os.fspath(path)  # type: ignore[arg-type]
    if type(region) is tuple:
        # A patch's usual form, a tuple of slices: the core opens the file
        # once, cuts it and makes the array (None for any other index).
        done = _core.read_slices(name, region)
        if done is not None:
            return done
    shape = tuple(_core.read_shape(name))
    axes, out_shape = _region_for(region, shape, name)
    return _to_array(_core.read(name, axes)).reshape(out_shape, order="F")


def read_many(path: PathLike, regions: Sequence[Any]) -> list[npt.NDArray[Any]]:
    """Read several regions of the image at ``path``, each as :func:`read` would.

    What the regions share is read once: from a ``.nii.gz``, each chunk of
    the stream that any of them needs is inflated once (and a first read that
    needs most of a stream not indexed yet inflates it whole, once), which is
    what a patch sampler taking many patches from one volume wants.

    Args:
        path: the image (any of its files for a pair).
        regions: numpy basic indices, as ``region`` of :func:`read`.
    """
    name = os.fspath(path)
    shape = read_header(path).shape
    normalized = [_region_for(region, shape, name) for region in regions]
    raws = _core.read_many(path, [axes for axes, _ in normalized])
    return [
        _to_array(raw).reshape(out_shape, order="F")
        for raw, (_, out_shape) in zip(raws, normalized, strict=True)
    ]


def prefetch(path: PathLike) -> None:
    """Inflate the ``.nii.gz`` at ``path`` now and keep its voxels for the reads that follow.

    Region reads of the file are then cut from memory until the voxels are
    dropped from the stream cache (see :func:`tioxide.gz.configure`). A patch
    queue calls this in a worker thread, so that inflating the next subject
    overlaps with sampling the current one. Nothing is done for other files.
    """
    _core.prefetch(path)


def release(path: PathLike) -> None:
    """Drop the voxels :func:`prefetch` kept for ``path`` (once its regions are read)."""
    _core.release(path)


def _region_for(
    region: Any, shape: tuple[int, ...], name: str
) -> tuple[list[tuple[int, int, int]], tuple[int, ...]]:
    """:func:`normalize_region`, its errors naming the image."""
    try:
        return normalize_region(region, shape)
    except (IndexError, TypeError, ValueError) as e:
        raise type(e)(f"{name}: {e}") from None


def _read_stream(
    file: BinaryFile, region: Any, cache_key: str | None, index: bytes | None
) -> npt.NDArray[Any]:
    name = _stream_name(file)
    # Header and voxels are two calls: a one-off key lets the second reuse
    # the chunks the first inflated, and dies with the cache entry.
    key = cache_key if cache_key is not None else f"stream:{uuid.uuid4()}"
    if region is None:
        return _to_array(_core.read_stream(file, name, None, key, index))
    shape = NiftiHeader(_core.read_header_stream(file, name, key, index)).shape
    axes, out_shape = _region_for(region, shape, name)
    raw = _core.read_stream(file, name, axes, key, index)
    return _to_array(raw).reshape(out_shape, order="F")


def _header_fields(header: NiftiHeader | Mapping[str, Any] | None) -> dict[str, Any]:
    if header is None:
        return {}
    fields: dict[str, Any] = {}
    for name in header:
        if isinstance(header, NiftiHeader) and name in _STRUCTURAL:
            continue
        value = header[name]
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, str):
            value = value.encode()
        fields[name] = value
    return fields


def _extensions(
    header: NiftiHeader | Mapping[str, Any] | None,
    extensions: Sequence[tuple[int, bytes]] | None,
) -> list[tuple[int, bytes]]:
    if extensions is None:
        return list(header.extensions) if isinstance(header, NiftiHeader) else []
    out = []
    for item in extensions:
        code, content = item
        if not isinstance(code, int) or not isinstance(content, bytes | bytearray):
            raise TypeError(f"an extension is (int code, bytes content), got {item!r:.60}")
        out.append((code, bytes(content)))
    return out


def write(
    path: PathLike,
    array: npt.ArrayLike,
    affine: npt.ArrayLike | None = None,
    header: NiftiHeader | Mapping[str, Any] | None = None,
    *,
    gzip: bool | None = None,
    level: int | None = None,
    index: bool = False,
    format: str | None = None,
    extensions: Sequence[tuple[int, bytes]] | None = None,
) -> None:
    """Write ``array`` as a single-file NIfTI image (``.nii`` or ``.nii.gz``).

    The file appears only when complete (written under a temporary name, then
    renamed). ``header`` may be a :class:`NiftiHeader` (its descriptive fields
    are kept; geometry comes from ``affine``) or a mapping of field names to values.
    gzip output is compressed on all cores as one standard gzip member, at
    zlib's ``level`` (0 to 9) or, by default (``None``), with matches of
    repeated bytes only (zlib's ``Z_RLE``): on images, runs of background and
    noisy tissue, that writes files within a few percent of level 6 in a
    third to a half of its time. With ``index``, its seek index is saved next to it
    (``FILE.tioxidx``, see :mod:`tioxide.gz`) at no extra cost. ``format``
    is ``"nifti1"`` or ``"nifti2"``; by default NIfTI-1 unless a dimension
    exceeds its limit (32767). ``extensions`` are ``(code, content)`` header
    extensions; by default those of ``header`` when it is a :class:`NiftiHeader`.
    """
    if format not in (None, "nifti1", "nifti2"):
        raise ValueError(f"format must be 'nifti1' or 'nifti2', got {format!r}")
    if level is not None and not 0 <= level <= 9:
        raise ValueError(f"level must be 0 to 9 (or None), got {level}")
    name = os.fspath(path).lower()
    if not name.endswith((".nii", ".nii.gz")):
        raise ValueError(f"{os.fspath(path)}: can only write single-file NIfTI (.nii or .nii.gz)")
    arr = np.asarray(array)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    if arr.dtype.kind not in "iufc" and arr.dtype not in (_RGB, _RGBA):
        raise TypeError(f"{os.fspath(path)}: NIfTI cannot store dtype {arr.dtype}")
    code = {v: k for k, v in _SPECIAL.items()}.get(arr.dtype, None)
    if code is None:
        native = arr.dtype.newbyteorder("=") if arr.dtype.byteorder not in "=|" else arr.dtype
        arr = arr.astype(native, copy=False)
        code = arr.dtype.str.lstrip("<>|=")
    if arr.ndim == 0:
        raise ValueError(f"{os.fspath(path)}: cannot write a 0-dimensional array as an image")
    aff = np.eye(4) if affine is None else np.asarray(affine, dtype=np.float64)
    if aff.shape != (4, 4):
        raise ValueError(f"{os.fspath(path)}: affine must be 4x4, got shape {aff.shape}")
    flat = np.asfortranarray(arr).reshape(-1, order="F").view(np.uint8)
    try:
        _core.write(
            path,
            flat,
            list(arr.shape),
            code,
            aff.tolist(),
            gzip,
            level,
            _header_fields(header),
            index,
            None if format is None else format == "nifti2",
            _extensions(header, extensions),
        )
    except ValueError as e:
        if "cannot write dtype" in str(e):
            raise TypeError(f"{os.fspath(path)}: NIfTI cannot store dtype {arr.dtype}") from None
        raise
