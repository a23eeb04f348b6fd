"""Thread-scaling benchmark (issue 8): aggregate throughput of 32^3 patch
reads from 8 threads against one thread, in one process (the core releases
the GIL while it reads).

Run by ``benches/compare.py`` (or directly); writes a markdown section.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
FILES = [DATA / "plain" / "big_float32.nii", DATA / "gz" / "big_float32.nii.gz"]
PATCH = 32
READS = 4000
THREADS = 8


def _patches(shape: Sequence[int], n: int) -> list[tuple[slice, ...]]:
    rng = np.random.default_rng(8)
    corners = rng.integers(0, np.asarray(shape[:3]) - PATCH, size=(n, 3))
    return [tuple(slice(int(c), int(c) + PATCH) for c in corner) for corner in corners]


def _read_all(path: Path, regions: list[tuple[slice, ...]]) -> None:
    from tioxide import nifti

    for region in regions:
        nifti.read(path, region)


def _rate(path: Path, regions: list[tuple[slice, ...]], threads: int) -> float:
    """Patches per second over all threads (best of 3 runs)."""
    shares = [regions[k::threads] for k in range(threads)]
    best = float("inf")
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in range(3):
            t0 = time.perf_counter()
            list(pool.map(lambda share: _read_all(path, share), shares))
            best = min(best, time.perf_counter() - t0)
    return len(regions) / best


def run() -> list[str]:
    from tioxide import gz, nifti

    rows = []
    for path in FILES:
        regions = _patches(nifti.read_header(path).shape, READS)
        if path.name.endswith(".gz"):
            gz.build_index(path)  # a hot, indexed file: chunks cached
        _read_all(path, regions)  # warm: page cache, maps, chunks
        one = _rate(path, regions, 1)
        many = _rate(path, regions, THREADS)
        rows.append(
            f"| `{path.parent.name}/{path.name}` | {one:,.0f} | {many:,.0f} | {many / one:.2f}x |"
        )
    cores = len(os.sched_getaffinity(0))
    return [
        "## Thread scaling",
        "",
        f"{READS} random 32^3 patches of the 512^3 float32 volume, read with `nifti.read` "
        f"by 1 thread, then shared among {THREADS} threads of one process ({cores} cores); "
        "warm page cache and caches (the `.nii.gz` indexed, its chunks cached up to the "
        "default 256 MiB); best of 3; patches per second over all threads (target for "
        "the `.nii`: 8 threads >= 1.6x one thread):",
        "",
        f"| file | 1 thread | {THREADS} threads | scaling |",
        "|---|---:|---:|---:|",
        *rows,
        "",
    ]


if __name__ == "__main__":
    print("\n".join(run()))
