"""``Image``, ``ScalarImage`` and ``LabelMap``: TorchIO 2's image classes on the Rust core.

An image is a ``(C, I, J, K)`` tensor plus a voxel-to-world affine and free-form
metadata. Images made from a path are lazy: nothing is read until a property
needs it, the header answers shape, affine, spacing, origin, orientation and
dtype, indexing reads only the selected region, and ``data`` reads all voxels
once.
"""

from __future__ import annotations

import copy
import importlib
import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt
import torch
from torch import Tensor

from . import sources
from .affine import AffineMatrix
from .backends import (
    BackendRequest,
    DicomSeriesBackend,
    ImageDataBackend,
    LazyReader,
    NibabelBackend,
    NiftiBackend,
    SimpleITKBackend,
    TensorBackend,
    ZarrBackend,
    resolve_backend,
)
from .bboxes import BoundingBoxes
from .conversion import numpy_to_tensor
from .formatting import binary_size
from .indexing import normalize_index
from .invertible import Invertible
from .io import default_reader, unsupported_format
from .points import Points
from .sitk_backend import sitk_to_tensor
from .zarr_backend import is_remote_nifti_zarr

Reader: TypeAlias = "Callable[..., tuple[Tensor, npt.ArrayLike]]"
_Self = TypeVar("_Self", bound="Image")
_Annotation = TypeVar("_Annotation", Points, BoundingBoxes)


class Image(Invertible):
    """An image: a ``(C, I, J, K)`` tensor, its affine, and metadata.

    Use :class:`ScalarImage` for intensities and :class:`LabelMap` for
    segmentations; transforms tell them apart with ``isinstance``.

    Args:
        source: Where the voxels come from. Read lazily (header first, then
            regions or all voxels on demand), through the backend registry
            (:mod:`tioxide.data.backends`): a path (NIfTI-1, NIfTI-2 and
            ANALYZE through the Rust core; ``.nii.zarr``; NRRD, MHA/MHD and
            the other formats SimpleITK reads; a directory holding a DICOM
            series); a URL (``https://...``, any fsspec protocol: a
            ``.nii``/``.nii.gz`` is read in place with range requests, other
            formats are downloaded first); a binary file-like object (needs
            ``suffix``; a seekable one holding ``.nii``/``.nii.gz`` is read in
            place and must stay open until the image is loaded, a reference
            to it is kept; others are copied to a temporary file, as is an
            ``fsspec`` open file); a ``nibabel`` image; a zarr store. Read at
            once: ``bytes`` or ``io.BytesIO`` (a whole file; NIfTI from
            memory, other formats through a temporary file), a ``SimpleITK.Image``.
            Used as is: a 4D tensor or numpy array ``(C, I, J, K)`` (arrays are
            copied). ``None`` gives an empty image to fill with :meth:`set_data`.
        reader: A callable ``reader(path, **reader_kwargs)`` returning
            ``(tensor, affine)`` that replaces the built-in reader. Images with
            such a reader load the whole file to answer ``shape``, unless the
            reader is a :class:`~tioxide.data.backends.LazyReader`.
        reader_kwargs: Keyword arguments for the reader. The built-in NIfTI
            reader accepts ``mmap`` and ``keep_file_open`` and ignores them;
            the SimpleITK one takes ``outputPixelType`` and ``imageIO``.
        affine: 4 x 4 affine (array-like or :class:`AffineMatrix`) that
            replaces the source's; the identity for tensors if omitted.
        channels_last: The data is ``(I, J, K, C)``: permute it to
            ``(C, I, J, K)`` (tensors at once, files when loaded).
        suffix: The format of a file-like or bytes source (``".nii.gz"``,
            ``".nrrd"`` ...); bytes default to ``".nii.gz"``.
        points: Named :class:`Points` attached to the image (the dict is copied).
        bounding_boxes: Named :class:`BoundingBoxes` attached to the image.
        **kwargs: Metadata, available as ``image.metadata``, ``image["key"]``
            and ``image.key``. Unknown keywords such as ``check_nans`` are
            metadata too, as in TorchIO 2.

    Raises:
        ValueError: A tensor that is not 4D, an affine that is not 4 x 4, a
            file-like source without ``suffix``, or bytes no reader reads.
        TypeError: A source of an unsupported type, or annotations that are
            not dicts of :class:`Points` / :class:`BoundingBoxes`.
        FileNotFoundError, OSError: A URL that does not exist or cannot be reached.
        ImportError: A source that needs a missing extra (``remote``, ``zarr``,
            ``sitk``); the message names the ``pip install`` to run.

    Examples:
        >>> import tioxide as tio
        >>> image = tio.ScalarImage("t1.nii.gz")  # doctest: +SKIP
        >>> image.shape, image.spacing  # header only  # doctest: +SKIP
        >>> patch = image[:, 64:128, 64:128, 32:64]  # reads only the patch  # doctest: +SKIP
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Tensor | npt.NDArray[Any] | bytes | io.IOBase | Any = None,
        *,
        reader: Reader | None = None,
        reader_kwargs: dict[str, Any] | None = None,
        affine: AffineMatrix | npt.ArrayLike | None = None,
        channels_last: bool = False,
        suffix: str | None = None,
        points: dict[str, Points] | None = None,
        bounding_boxes: dict[str, BoundingBoxes] | None = None,
        **kwargs: Any,
    ) -> None:
        self._reader: Reader = reader or default_reader
        self._reader_kwargs: dict[str, Any] = dict(reader_kwargs or {})
        self._channels_last = channels_last
        self._metadata: dict[str, Any] = dict(kwargs)
        self._data: Tensor | None = None
        self._backend: ImageDataBackend | None = None
        self._path: Path | None = None
        self._affine: AffineMatrix | None = None if affine is None else _parse_affine(affine)
        self._points = _parse_annotations(points, Points, "points")
        self._bounding_boxes = _parse_annotations(bounding_boxes, BoundingBoxes, "bounding_boxes")
        self._remote_zarr_uri: str | None = None
        self._zarr_store: Any = None
        # A URL or file object read in place (no local file): see sources.StreamSource.
        self._stream: sources.StreamSource | None = None
        self.applied_transforms = []
        self._dispatch_source(source, affine, channels_last, suffix)

    def _dispatch_source(
        self,
        source: Any,
        affine: AffineMatrix | npt.ArrayLike | None,
        channels_last: bool,
        suffix: str | None,
    ) -> None:
        if source is None:
            return
        if isinstance(source, Tensor | np.ndarray):
            self._init_from_tensor(source, affine, channels_last)
        elif sources.is_nibabel_image(source):
            override = None if self._affine is None else self._affine.data
            self._backend = NibabelBackend(source, affine=override)
        elif sources.is_sitk_image(source):
            tensor, sitk_affine = sitk_to_tensor(source, "SimpleITK image")
            self._init_from_tensor(tensor, sitk_affine if affine is None else affine, False)
        elif isinstance(source, bytes | bytearray | memoryview | io.BytesIO):
            self._init_from_bytes(source, suffix or ".nii.gz")
        elif isinstance(source, str) and is_remote_nifti_zarr(source):
            self._remote_zarr_uri = source
        elif sources.is_zarr_store(source):
            self._zarr_store = source
        else:
            # A custom reader takes a local path: only the built-in one reads in place.
            in_place = self._reader is default_reader
            stream = sources.in_place_source(source, suffix=suffix) if in_place else None
            if stream is not None:
                self._stream = stream
            else:
                self._path = sources.resolve_source(source, suffix=suffix)

    def _init_from_tensor(
        self,
        tensor: Tensor | npt.NDArray[Any],
        affine: AffineMatrix | npt.ArrayLike | None,
        channels_last: bool,
    ) -> None:
        data = _parse_tensor(tensor)
        if channels_last:
            data = data.permute(3, 0, 1, 2)
        self._data = data
        self._channels_last = False
        self._affine = _parse_affine(affine)
        self._backend = TensorBackend(data, affine=self._affine.data)

    def _init_from_bytes(
        self, data: bytes | bytearray | memoryview | io.BytesIO, suffix: str
    ) -> None:
        """Read a whole in-memory file: NIfTI from memory, other formats through a
        temporary file (removed at once)."""
        raw = data.read() if isinstance(data, io.BytesIO) else bytes(data)
        path = None
        try:
            if sources.reads_in_place(suffix):
                backend = NiftiBackend(
                    sources.FileSource(io.BytesIO(raw), name=f"<{len(raw)} bytes>"),
                    reader_kwargs=self._reader_kwargs,
                )
                tensor, file_affine = backend.to_tensor(), backend.affine.numpy()
            else:
                path = sources.write_temporary(raw, suffix, keep=False)
                tensor, file_affine = default_reader(path, **self._reader_kwargs)
        except Exception as e:
            # A temporary file's name means nothing to the caller: say what it was.
            if sys.version_info >= (3, 11):
                e.add_note(f"(reading {len(raw)} bytes given as the image source, as {suffix})")
            raise
        finally:
            if path is not None:
                path.unlink(missing_ok=True)
        if self._affine is None:
            self._affine = AffineMatrix(file_affine)
        if self._channels_last:
            tensor = tensor.permute(3, 0, 1, 2)
            self._channels_last = False
        self._data = tensor
        self._backend = TensorBackend(tensor, affine=self._affine.data)

    # -- properties -----------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The local file the image comes from, if any (None for a URL or file
        object read in place)."""
        return self._path

    @property
    def is_loaded(self) -> bool:
        """Whether the voxels are in memory."""
        return self._data is not None

    @property
    def data(self) -> Tensor:
        """The ``(C, I, J, K)`` tensor, read from the file on first use."""
        if self._data is None:
            self.load()
        assert self._data is not None
        return self._data

    @property
    def affine(self) -> AffineMatrix:
        """The voxel-to-world affine (from the header when not loaded)."""
        if self._affine is None:
            if self._backend is None and self._has_source() and self._reads_lazily():
                self._ensure_backend()
            if self._backend is not None:
                self._affine = AffineMatrix(self._backend.affine)
            else:
                self.load()
        assert self._affine is not None
        return self._affine

    @property
    def metadata(self) -> dict[str, Any]:
        """Free-form metadata (the constructor's extra keyword arguments)."""
        return self._metadata

    @property
    def dataobj(self) -> ImageDataBackend:
        """The backend behind the image: a file read on demand, or a tensor.

        Indexing it reads only the region, always as a 4D tensor. An image
        whose reader is a plain callable is loaded and its tensor returned.

        Raises:
            RuntimeError: The image has no source.
            FileNotFoundError: The file does not exist.
            ValueError: No backend reads the file's format.
        """
        self._ensure_backend()
        if self._backend is None:
            assert self._path is not None
            if self._reads_lazily():
                raise _source_error(self._path)
            self.load()
            self._refresh_backend()
        assert self._backend is not None
        return self._backend

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(C, I, J, K)``; from the header when not loaded."""
        if self._data is not None:
            c, i, j, k = self._data.shape
            return (int(c), int(i), int(j), int(k))
        if self._backend is not None:
            return self._backend.shape
        if not self._has_source():
            raise RuntimeError("Cannot determine shape: no data or path")
        if self._reads_lazily():
            self._ensure_backend()
            if self._backend is not None:
                return self._backend.shape
        self.load()
        return self.shape

    @property
    def spatial_shape(self) -> tuple[int, int, int]:
        """``(I, J, K)``."""
        _, i, j, k = self.shape
        return (i, j, k)

    @property
    def num_channels(self) -> int:
        """``C``, the number of channels."""
        return self.shape[0]

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm, from the affine."""
        return self.affine.spacing

    @property
    def origin(self) -> tuple[float, float, float]:
        """World coordinates of the centre of the first voxel."""
        return self.affine.origin

    @property
    def memory(self) -> int:
        """Bytes the voxels take (on-disk item size while not loaded)."""
        c, i, j, k = self.shape
        return c * i * j * k * self.dtype.itemsize

    @property
    def dtype(self) -> torch.dtype | np.dtype[Any]:
        """The tensor's dtype when loaded; before that, the numpy dtype stored in the file.

        The stored dtype keeps the file's byte order and ignores scaling, as
        nibabel's ``get_data_dtype()`` (and so TorchIO) reports it.
        """
        if self._data is not None:
            return self._data.dtype
        if self._backend is None and self._has_source():
            self._ensure_backend()
            if self._backend is None:
                return self.data.dtype
        if self._backend is None:
            raise RuntimeError("Cannot determine dtype: no data or path")
        return self._backend.dtype

    @property
    def orientation(self) -> tuple[str, str, str]:
        """Orientation codes of the voxel axes, e.g. ``('R', 'A', 'S')``."""
        return self.affine.orientation

    @property
    def points(self) -> dict[str, Points]:
        """Named point sets attached to the image."""
        return self._points

    @property
    def bounding_boxes(self) -> dict[str, BoundingBoxes]:
        """Named bounding boxes attached to the image."""
        return self._bounding_boxes

    @property
    def device(self) -> torch.device:
        """Device of the tensor (loads the image)."""
        return self.data.device

    # -- loading and data -----------------------------------------------------

    def _has_source(self) -> bool:
        return (
            self._path is not None
            or self._remote_zarr_uri is not None
            or self._zarr_store is not None
            or self._stream is not None
        )

    def _reads_lazily(self) -> bool:
        """Whether a backend may answer for the reader (a plain reader must load)."""
        return (
            self._reader is default_reader
            or isinstance(self._reader, LazyReader)
            or self._path is None
        )

    def _ensure_backend(self) -> None:
        """Ask the backend registry for a backend of the source (reads the header only).

        No backend is set when none matches (a plain custom reader's format).
        """
        if self._backend is not None:
            return
        if not self._has_source():
            raise RuntimeError("Cannot create backend: no path or store set")
        if self._stream is not None:
            # No local path for the registry to match: a stream is always single-file NIfTI.
            affine = None if self._affine is None else self._affine.data
            self._backend = NiftiBackend(
                self._stream, affine=affine, reader_kwargs=self._reader_kwargs
            )
            return
        request = BackendRequest(
            path=self._path,
            remote_zarr_uri=self._remote_zarr_uri,
            zarr_store=self._zarr_store,
            affine=None if self._affine is None else self._affine.data,
            reader_kwargs=self._reader_kwargs,
            reader=self._reader,
        )
        self._backend = resolve_backend(request)

    def load(self) -> None:
        """Read the voxels into memory (once; later calls do nothing).

        Raises:
            RuntimeError: The image has no source.
            FileNotFoundError: The file does not exist.
            ValueError: The file is not 3D/4D, or its format is not supported.
        """
        if self._data is not None:
            return
        if self._backend is None and self._has_source() and self._reads_lazily():
            self._ensure_backend()
        if self._backend is not None:
            data = self._backend.to_tensor()
            affine: Any = self._backend.affine
        elif self._path is None:
            raise RuntimeError("Cannot load: no path or backend set")
        else:
            data, affine = self._reader(self._path, **self._reader_kwargs)
        if self._affine is None:
            self._affine = AffineMatrix(affine)
        if self._channels_last:
            data = data.permute(3, 0, 1, 2)
            self._channels_last = False
        self._data = data

    def set_data(self, tensor: Tensor | npt.NDArray[Any]) -> None:
        """Replace the voxels with a 4D ``(C, I, J, K)`` tensor or array.

        The affine is kept: the one set or read from the header, else the
        identity. The full image is never read.

        Raises:
            ValueError: The tensor is not 4D.
        """
        self._data = _parse_tensor(tensor)
        self._refresh_backend()

    def _refresh_backend(self) -> None:
        assert self._data is not None
        if self._affine is None:
            if self._backend is None and self._has_source():
                self._ensure_backend()
            backend = self._backend
            self._affine = AffineMatrix() if backend is None else AffineMatrix(backend.affine)
        self._backend = TensorBackend(self._data, affine=self._affine.data)

    def to(self: _Self, *args: Any, **kwargs: Any) -> _Self:
        """Move or cast the data as ``torch.Tensor.to`` does; the affine follows.

        The affine stays float64 (a dtype argument rounds it to that dtype first,
        as in TorchIO).

        Returns:
            ``self``, changed in place.
        """
        self._data = self.data.to(*args, **kwargs)
        if self._affine is not None:
            self._affine.to(*args, **kwargs)
        self._refresh_backend()
        return self

    def save(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Write the image to a file whose suffix picks the format.

        ``.nii``/``.nii.gz`` go through the Rust writer (the affine is stored
        as given, oblique or not; several channels are written as
        ``(I, J, K, C)``), ``.nii.zarr`` through nifti-zarr, anything else
        through SimpleITK (NRRD, MHA, ...), as TorchIO writes them.

        Args:
            path: The output file.
            **kwargs: For NIfTI, ``compressionLevel`` and ``useCompression``;
                for SimpleITK formats, keyword arguments of ``SimpleITK.WriteImage``.

        Raises:
            TypeError: An unknown keyword argument, or a dtype the format cannot store.
            ImportError: The format needs a missing extra (``sitk``, ``zarr``).
        """
        from .writing import save

        save(path, self.numpy(), self.affine.numpy(), **kwargs)

    def numpy(self) -> npt.NDArray[Any]:
        """The data as a numpy array (sharing memory with a CPU tensor)."""
        return self.data.cpu().numpy()

    def new_like(
        self: _Self, *, data: Tensor, affine: AffineMatrix | npt.ArrayLike | None = None
    ) -> _Self:
        """A new image of the same class with ``data``, this image's metadata and affine.

        Args:
            data: The new 4D ``(C, I, J, K)`` tensor (not copied).
            affine: A new affine; a copy of this image's if omitted.
        """
        new_affine = self.affine.clone() if affine is None else _parse_affine(affine)
        points, boxes = self._copy_annotations()
        return type(self)(
            data, affine=new_affine, points=points, bounding_boxes=boxes, **self._metadata
        )

    def _copy_annotations(self) -> tuple[dict[str, Points], dict[str, BoundingBoxes]]:
        points = {name: copy.deepcopy(p) for name, p in self._points.items()}
        boxes = {name: copy.deepcopy(b) for name, b in self._bounding_boxes.items()}
        return points, boxes

    # -- indexing ---------------------------------------------------------------

    def __getitem__(self, item: Any) -> Any:
        """Metadata by key (``image["key"]``), or a region as a new image.

        A region index is in tensor order ``(C, I, J, K)``: ints keep their
        axis (size 1), ``...`` and missing trailing indices take everything,
        slices may have any step (negative steps only while not loaded, as
        torch tensors refuse them). The new image's origin moves to the first
        selected voxel; the rest of the affine is kept. An image not yet loaded
        reads only the region from its file.

        Raises:
            KeyError: A metadata key that is not there.
            IndexError: Two ellipses, or more than four indices.
            TypeError: An index that is not an int, slice or ellipsis.
        """
        if isinstance(item, str):
            if item in self._metadata:
                return self._metadata[item]
            raise KeyError(f"{type(self).__name__} has no metadata key {item!r}")
        c, i, j, k = normalize_index(item)
        full_shape = self.shape
        region = self._read_region(c, i, j, k)
        matrix = self.affine.data.clone()
        starts = [s.indices(n)[0] for s, n in zip((i, j, k), full_shape[1:], strict=True)]
        start_voxel = torch.tensor(starts, dtype=torch.float64, device=matrix.device)
        matrix[:3, 3] += matrix[:3, :3] @ start_voxel
        return self.new_like(data=region, affine=AffineMatrix(matrix))

    def _read_region(self, c: slice, i: slice, j: slice, k: slice) -> Tensor:
        if self._data is not None:
            return self._data[c, i, j, k]
        self._ensure_backend()
        if self._backend is not None:
            return self._backend[c, i, j, k]
        return self.data[c, i, j, k]

    def __getattr__(self, name: str) -> Any:
        """Metadata by attribute (``image.key``)."""
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._metadata:
            return self._metadata[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    # -- copies -------------------------------------------------------------------

    def __copy__(self: _Self) -> _Self:
        new = self.new_like(data=self.data.clone())
        new.applied_transforms = list(self.applied_transforms)
        return new

    def __deepcopy__(self: _Self, memo: dict[int, Any]) -> _Self:
        affine = copy.deepcopy(self._affine)
        points, boxes = self._copy_annotations()
        common: dict[str, Any] = {
            "affine": affine,
            "points": points,
            "bounding_boxes": boxes,
            **self._metadata,
        }
        source = next(
            (
                x
                for x in (self._path, self._remote_zarr_uri, self._zarr_store, self._stream)
                if x is not None
            ),
            None,
        )
        if source is not None:
            new = type(self)(
                source,
                reader=self._reader,
                reader_kwargs=dict(self._reader_kwargs),
                **common,
            )
            if self._data is not None:
                new._data = self._data.clone()
                new._affine = affine
            elif self._backend is not None:
                new._backend = copy.copy(self._backend)
        elif self._data is not None:
            new = type(self)(self._data.clone(), **common)
        else:
            new = type(self)(**common)
            if self._backend is not None:
                new._backend = copy.copy(self._backend)
        new.applied_transforms = copy.deepcopy(self.applied_transforms, memo)
        memo[id(self)] = new
        return new

    # -- display --------------------------------------------------------------------

    def _path_line(self) -> str:
        if self._remote_zarr_uri is not None:
            status = "loaded" if self.is_loaded else "lazy, NIfTI-Zarr"
            return f"    path:        {self._remote_zarr_uri} ({status})"
        if self._path is not None:
            name = self._path.name
        elif self._stream is not None:
            name = self._stream.display_name
        else:
            return "    path:        (in memory)"
        if self.is_loaded:
            return f"    path:        {name} (loaded)"
        return f"    path:        {name} (lazy, {_backend_label(self._backend)})"

    def __repr__(self) -> str:
        lines: list[str] = []
        try:
            spacing = ", ".join(f"{s:.2f}" for s in self.spacing)
            origin = ", ".join(f"{o:.2f}" for o in self.origin)
            angles = ", ".join(f"{a:.1f}°" for a in self.affine.euler_angles)
            dtype = str(self.dtype).replace("torch.", "")
            memory = binary_size(self.memory)
            lines.append(self._path_line())
            lines.append(f"    channels:    {self.num_channels}")
            lines.append(f"    spatial:     {self.spatial_shape}")
            lines.append(f"    spacing:     ({spacing}) mm")
            lines.append(f"    origin:      ({origin}) mm")
            lines.append(f"    orientation: {''.join(self.orientation)}+")
            lines.append(f"    angles:      ({angles})")
            lines.append(f"    dtype:       {dtype}")
            if self.is_loaded:
                lines.append(f"    device:      {self.device}")
            lines.append(f"    memory:      {memory}")
        except Exception:
            if self._path is not None:
                lines.append(f'    path: "{self._path}"')
            elif self._stream is not None:
                lines.append(f'    path: "{self._stream.name}"')
        if self._points:
            lines.append(f"    points:      {{{', '.join(self._points)}}}")
        if self._bounding_boxes:
            lines.append(f"    bboxes:      {{{', '.join(self._bounding_boxes)}}}")
        body = "\n".join(lines)
        return f"{type(self).__name__}(\n{body}\n)"

    def _repr_html_(self) -> str:
        """An HTML table of the image for Jupyter (see :mod:`.repr_html`)."""
        from .repr_html import image_to_html

        return image_to_html(self)

    def plot(self, **kwargs: Any) -> Any:
        """Plot sagittal, coronal and axial slices (needs ``pip install tioxide[plot]``).

        An image not yet loaded reads only the three slices shown. See
        :func:`tioxide.visualization.plot_image` for the keyword arguments.
        """
        from ..visualization import plot_image

        return plot_image(self, **kwargs)

    def plot_interactive(self, *, height: int = 300) -> Any:
        """A NiiVue viewer widget for Jupyter (needs ``pip install tioxide[niivue]``).

        Args:
            height: Height of the viewer in pixels.

        Returns:
            An ``ipyniivue.NiiVue`` widget, in the radiological convention.

        Raises:
            ImportError: ipyniivue is not installed.
        """
        from ..visualization import niivue_widget

        return niivue_widget(self, height=height)

    def to_gif(
        self,
        output_path: str | os.PathLike[str] | None = None,
        *,
        seconds: float = 5.0,
        direction: str = "I",
        loop: int = 0,
        rescale: bool = True,
        optimize: bool = True,
        reverse: bool = False,
    ) -> Any:
        """Write an animated GIF sweeping through the slices (needs Pillow).

        Args:
            output_path: The ``.gif`` file; in Jupyter, ``None`` writes a
                temporary one and shows it.
            seconds: Length of the animation.
            direction: Sweep direction: ``"I"``, ``"S"``, ``"A"``, ``"P"``,
                ``"R"`` or ``"L"``.
            loop: Times to play (0: forever).
            rescale: Stretch intensities to 0-255.
            optimize: Let Pillow shrink the palette.
            reverse: Play the frames backwards.

        Returns:
            An ``IPython.display.Image`` in Jupyter, else ``None``.

        Raises:
            ValueError: No ``output_path`` outside Jupyter, or a bad direction.
            ImportError: Pillow is missing (``pip install tioxide[video]``).
        """
        from ..visualization import make_gif
        from ..visualization._notebook import inline_media, media_path

        path = media_path(output_path, ".gif")
        make_gif(
            self,
            path,
            seconds=seconds,
            direction=direction,
            loop=loop,
            rescale=rescale,
            optimize=optimize,
            reverse=reverse,
        )
        return inline_media(path, "image")

    def to_video(
        self,
        output_path: str | os.PathLike[str] | None = None,
        *,
        seconds: float = 5.0,
        direction: str = "I",
        verbosity: str = "error",
    ) -> Any:
        """Write an MP4 video sweeping through the slices (needs ``pip install tioxide[video]``).

        Args:
            output_path: The ``.mp4`` file; in Jupyter, ``None`` writes a
                temporary one and shows it.
            seconds: Length of the video.
            direction: Sweep direction, as for :meth:`to_gif`.
            verbosity: ffmpeg's log level.

        Returns:
            An ``IPython.display.Video`` in Jupyter, else ``None``.

        Raises:
            ValueError: No ``output_path`` outside Jupyter, several channels,
                or a bad direction.
            ImportError: ffmpeg-python or an ffmpeg executable is missing.
        """
        from ..visualization import make_video
        from ..visualization._notebook import inline_media, media_path

        path = media_path(output_path, ".mp4")
        make_video(self, path, seconds=seconds, direction=direction, verbosity=verbosity)
        return inline_media(path, "video")


class ScalarImage(Image):
    """An image of intensities (MRI, CT, ...).

    Intensity transforms apply to ``ScalarImage`` instances only.

    Examples:
        >>> import torch, tioxide as tio
        >>> tio.ScalarImage(torch.zeros(1, 4, 5, 6)).spatial_shape
        (4, 5, 6)
    """


class LabelMap(Image):
    """A segmentation: voxels hold labels.

    Spatial transforms resample ``LabelMap`` instances with nearest-neighbour
    interpolation.

    Examples:
        >>> import torch, tioxide as tio
        >>> tio.LabelMap(torch.zeros(1, 4, 5, 6, dtype=torch.uint8)).dtype
        torch.uint8
    """


_BACKEND_LABELS: dict[type, str] = {
    NiftiBackend: "NIfTI",
    NibabelBackend: "NIfTI",
    ZarrBackend: "NIfTI-Zarr",
    DicomSeriesBackend: "DICOM",
    TensorBackend: "Tensor",
    SimpleITKBackend: "SimpleITK",
}


def _backend_label(backend: object | None) -> str:
    """How ``repr`` names a backend (TorchIO's labels; other classes by name)."""
    if backend is None:
        return "unknown"
    # A lazily transformed image reads its file through a view (RegionView),
    # which exposes the file's backend as ``source``: name that file's format,
    # as TorchIO's repr of an unloaded image does, not the internal wrapper.
    source = getattr(backend, "source", None)
    if isinstance(source, ImageDataBackend) and source is not backend:
        return _backend_label(source)
    return _BACKEND_LABELS.get(type(backend), type(backend).__name__)


def _source_error(path: Path) -> Exception:
    """Why no backend reads ``path``: it is missing, a directory, or of an unknown format."""
    if not path.exists():
        return FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        return IsADirectoryError(f"{path}: is a directory, not an image file")
    return unsupported_format(path)


def _parse_tensor(tensor: Tensor | npt.NDArray[Any]) -> Tensor:
    if isinstance(tensor, np.ndarray):
        tensor = numpy_to_tensor(tensor)
    if tensor.ndim != 4:
        raise ValueError(f"Tensor must be 4D (C, I, J, K), got {tensor.ndim}D")
    return tensor


def _parse_affine(affine: AffineMatrix | npt.ArrayLike | None) -> AffineMatrix:
    if affine is None:
        return AffineMatrix()
    if isinstance(affine, AffineMatrix):
        return affine
    return AffineMatrix(affine)


def _parse_annotations(
    annotations: dict[str, _Annotation] | None, kind: type[_Annotation], what: str
) -> dict[str, _Annotation]:
    """A shallow copy of ``annotations``, every value checked to be a ``kind``."""
    if annotations is None:
        return {}
    if not isinstance(annotations, dict):
        raise TypeError(
            f"{what} must be a dict of {kind.__name__}, got {type(annotations).__name__}"
        )
    for name, value in annotations.items():
        if not isinstance(value, kind):
            raise TypeError(
                f"Expected {kind.__name__} for key {name!r}, got {type(value).__name__}"
            )
    return dict(annotations)


def __getattr__(name: str) -> Any:
    """``nib`` and ``sitk``: the readers' modules, imported on first use.

    TorchIO's ``torchio.data.image`` imports them under these names, and code
    written for it (mocks in tests, for one) reaches nibabel and SimpleITK
    there; importing them eagerly would slow every ``import tioxide``.
    """
    modules = {"nib": "nibabel", "sitk": "SimpleITK"}
    if name in modules:
        return importlib.import_module(modules[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
