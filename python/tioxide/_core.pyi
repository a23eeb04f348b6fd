from os import PathLike
from pathlib import Path
from typing import Any, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "NiftiError",
    "TruncatedFileError",
    "CorruptGzipError",
    "UnsupportedDatatypeError",
    "InvalidHeaderError",
    "NiftiHeader",
    "ScratchArray",
    "PendingNifti",
    "read_header",
    "read_shape",
    "read",
    "read_slices",
    "read_many",
    "prefetch",
    "release",
    "write",
    "clear_cache",
    "copy_c_order",
    "build_index",
    "read_stream",
    "read_header_stream",
    "sidecar_path",
    "configure",
    "cache_stats",
    "clear_gz_cache",
    "multinomial_one_draw",
    "__version__",
    "__build_profile__",
]

__version__: str

class NiftiError(ValueError): ...
class TruncatedFileError(NiftiError): ...
class CorruptGzipError(NiftiError): ...
class UnsupportedDatatypeError(NiftiError): ...
class InvalidHeaderError(NiftiError): ...

@final
class NiftiHeader:
    @property
    def shape(self) -> list[int]: ...
    @property
    def datatype(self) -> int: ...
    @property
    def dtype_str(self) -> str: ...
    @property
    def byte_order(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def single_file(self) -> bool: ...
    @property
    def vox_offset(self) -> int: ...
    @property
    def affine(self) -> npt.NDArray[np.float64]: ...
    def qform(self) -> npt.NDArray[np.float64] | None: ...
    def sform(self) -> npt.NDArray[np.float64] | None: ...
    @property
    def zooms(self) -> list[float]: ...
    @property
    def spacing(self) -> list[float]: ...
    @property
    def orientation(self) -> str: ...
    @property
    def scaling(self) -> tuple[float, float] | None: ...
    @property
    def extensions(self) -> list[tuple[int, bytes]]: ...
    @property
    def header_path(self) -> Path: ...
    @property
    def data_path(self) -> Path: ...
    def keys(self) -> list[str]: ...
    def fields(self) -> dict[str, Any]: ...
    def field(self, name: str) -> Any: ...

def read_header(path: str | PathLike[str]) -> NiftiHeader: ...
def read_shape(path: str | PathLike[str]) -> list[int]: ...
def read(
    path: str | PathLike[str], region: list[tuple[int, int, int]] | None = None
) -> tuple[npt.NDArray[np.uint64], int, int, str, list[int]]: ...
def read_slices(path: str | PathLike[str], region: object) -> npt.NDArray[Any] | None: ...
def read_many(
    path: str | PathLike[str], regions: list[list[tuple[int, int, int]]]
) -> list[tuple[npt.NDArray[np.uint64], int, int, str, list[int]]]: ...
def prefetch(path: str | PathLike[str]) -> None: ...
def release(path: str | PathLike[str]) -> None: ...
def write(
    path: str | PathLike[str],
    data: npt.NDArray[np.uint8],
    shape: list[int],
    dtype: str,
    affine: list[list[float]],
    gzip: bool | None = None,
    level: int | None = None,
    fields: dict[str, Any] | None = None,
    index: bool = False,
    nifti2: bool | None = None,
    extensions: list[tuple[int, bytes]] | None = None,
) -> None: ...

__build_profile__: str

@final
class ScratchArray:
    def __new__(
        cls, directory: str | PathLike[str], shape: list[int], itemsize: int
    ) -> ScratchArray: ...
    def read_block(self, start: list[int], size: list[int]) -> npt.NDArray[np.uint8]: ...
    def write_block(
        self, start: list[int], size: list[int], data: npt.NDArray[np.uint8]
    ) -> None: ...

@final
class PendingNifti:
    def __new__(
        cls,
        path: str | PathLike[str],
        shape: list[int],
        dtype: str,
        affine: list[list[float]],
        gzip: bool | None = None,
        level: int | None = None,
        fields: dict[str, Any] | None = None,
        index: bool = False,
    ) -> PendingNifti: ...
    def read_block(self, start: list[int], size: list[int]) -> npt.NDArray[np.uint8]: ...
    def write_block(
        self, start: list[int], size: list[int], data: npt.NDArray[np.uint8]
    ) -> None: ...
    def finish(self) -> None: ...

def clear_cache() -> None: ...
def copy_c_order(src: npt.NDArray[Any], dst: npt.NDArray[Any]) -> None:
    """Copy 3-D ``src`` (any non-negative strides) into C-contiguous ``dst``:
    same shape, same unsigned integer dtype of 1, 2, 4 or 8 bytes."""

_IndexInfo = tuple[int, int, bool, int, int]

def build_index(
    path: str | PathLike[str], save: bool = False, sidecar: str | PathLike[str] | None = None
) -> tuple[_IndexInfo, Path | None]: ...
def sidecar_path(path: str | PathLike[str]) -> Path: ...
def configure(
    span: int | None = None,
    index_cache_bytes: int | None = None,
    chunk_cache_bytes: int | None = None,
    threads: int | None = None,
    map_bytes: int | None = None,
) -> None: ...
def cache_stats() -> dict[str, dict[str, int]]: ...
def clear_gz_cache() -> None: ...
def multinomial_one_draw(
    generator: Any,
    length: int,
    indices: npt.NDArray[np.uint64],
    weights: npt.NDArray[np.float32],
) -> int | None: ...
def read_header_stream(
    file: Any, name: str, key: str | None = None, index: bytes | None = None
) -> NiftiHeader: ...
def read_stream(
    file: Any,
    name: str,
    region: list[tuple[int, int, int]] | None = None,
    key: str | None = None,
    index: bytes | None = None,
) -> tuple[npt.NDArray[np.uint64], int, int, str, list[int]]: ...
