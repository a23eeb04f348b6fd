"""Random access into ``.nii.gz``: the seek index.

Every region read from a ``.nii.gz`` goes through a seek index: checkpoints
about every ``span`` bytes of decompressed output (512 KiB by default) from
which inflating can start. A checkpoint holds up to 32 KiB of deflated
history, so checkpoints are placed further apart where needed to keep the
index within 4% of the output. The first region read builds the index up to the
region's end as a side effect; later reads inflate only the chunks (the
stretches between checkpoints) that hold the region, and recently inflated
chunks are kept in a bounded cache. Once a file is fully indexed, a full read
inflates its chunks on all cores.

Indexes live in a bounded in-process cache keyed by path, device, inode,
size and modification time. :func:`build_index` with ``save=True`` (or
``tioxide index FILE``) also writes the index next to the file
(``FILE.tioxidx``); reads pick such a sidecar up automatically when it
matches the file, and ignore it with a warning when it is stale or damaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from . import _core

__all__ = [
    "IndexInfo",
    "build_index",
    "cache_stats",
    "clear_cache",
    "configure",
    "sidecar_path",
]


@dataclass(frozen=True)
class IndexInfo:
    """What a seek index holds.

    Attributes:
        points: Number of checkpoints (the start of the stream included).
        span: Decompressed bytes between checkpoints it was built with.
        complete: True when the whole stream is indexed.
        covered: Decompressed bytes the index reaches.
        memory: Bytes of memory the index takes.
        sidecar: Where it was saved, if it was.
    """

    points: int
    span: int
    complete: bool
    covered: int
    memory: int
    sidecar: Path | None = None


def build_index(
    path: str | PathLike[str],
    *,
    save: bool = False,
    sidecar: str | PathLike[str] | None = None,
) -> IndexInfo:
    """Index the whole gzip file at ``path`` (one pass of inflate).

    Args:
        path: A gzip file (``.nii.gz``, ``.img.gz`` ...).
        save: Also write the index to a sidecar file.
        sidecar: Where to write it; ``FILE.tioxidx`` next to the file by default.

    Raises:
        CorruptGzipError, TruncatedFileError: The stream is damaged.
        OSError: The file cannot be read or the sidecar cannot be written.
    """
    (points, span, complete, covered, memory), saved = _core.build_index(
        path, save or sidecar is not None, sidecar
    )
    return IndexInfo(points, span, complete, covered, memory, saved)


def sidecar_path(path: str | PathLike[str]) -> Path:
    """Where the sidecar index of ``path`` is looked for."""
    return _core.sidecar_path(path)


def configure(
    *,
    span: int | None = None,
    index_cache_bytes: int | None = None,
    chunk_cache_bytes: int | None = None,
    threads: int | None = None,
    map_bytes: int | None = None,
) -> None:
    """Tune the seek index and the reads; arguments left as ``None`` keep their value.

    Args:
        span: Decompressed bytes between checkpoints of indexes built from now
            on (at least 64 KiB; default 512 KiB). Smaller spans make small
            patches cheaper and indexes bigger (a checkpoint holds up to 32 KiB
            of deflated history); whatever the span, a chunk spans at least
            25 bytes of output per byte of its checkpoint, so an index stays
            within 4% of the output.
        index_cache_bytes: Memory budget of the index cache (default 256 MiB).
        chunk_cache_bytes: Memory budget of the inflated-chunk cache, and
            separately of the cache of whole volumes inflated for a region
            read (so that the next regions of the same file, as a patch
            sampler takes them, are cut from memory); default 256 MiB each;
            0 disables them. A volume larger than that budget is never
            inflated whole for a region read: its regions go through the
            seek index.
        threads: Threads that inflate chunks in parallel, and that read a
            whole `.nii` of 4 MiB or more out of the page cache (0, the
            default: one per available core; 1: no extra threads, e.g. in
            DataLoader workers that already fill the cores).
        map_bytes: Bytes of `.nii` files that the cached memory maps may hold
            resident (default 256 MiB). Region reads of a `.nii` go through a
            map of the file kept between reads; its pages are the page
            cache's, shared with every process reading the file, but they
            count in the process's RSS. Past the budget, every map drops its
            pages, which later reads fault back in: random 32^3 patches of a
            512 MiB file read about 4x faster when it all stays mapped. 0
            keeps only the pages of the last read.
    """
    for name, value in (
        ("span", span),
        ("index_cache_bytes", index_cache_bytes),
        ("chunk_cache_bytes", chunk_cache_bytes),
        ("threads", threads),
        ("map_bytes", map_bytes),
    ):
        if value is not None and value < 0:
            raise ValueError(f"{name} must be non-negative, got {value}")
    _core.configure(span, index_cache_bytes, chunk_cache_bytes, threads, map_bytes)


def cache_stats() -> dict[str, dict[str, int]]:
    """Entries, bytes, budget, hits and misses of the index, chunk and
    whole-stream (``"streams"``) caches, the span of new indexes, the
    number of inflate threads, and the bytes of the spare buffers
    (``"spare"``): the memory of the last large array the core handed out
    and Python freed (16 MiB to 1 GiB), kept for the next whole-volume read,
    plus up to 32 MiB of smaller ones (64 KiB to 16 MiB: patches) for reads
    of about their size, which then pay no page faults, and up to 64 MiB of
    the memory of inflated chunks dropped from the chunk cache, for the next
    chunks kept; and the bytes the `.nii` memory maps hold resident, with
    their budget (``"maps"``; see :func:`configure`). The kernel may
    reclaim the large ones but the newest under memory pressure
    (``MADV_FREE``);
    :func:`clear_cache` frees them all (not :func:`tioxide.nifti.clear_cache`:
    they hold memory, not file data)."""
    return _core.cache_stats()


def clear_cache() -> None:
    """Forget every cached index, inflated chunk and stream (sidecars stay on
    disk), and free the spare buffers (see :func:`cache_stats`)."""
    _core.clear_gz_cache()
