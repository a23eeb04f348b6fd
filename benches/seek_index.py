"""Seek-index benchmark (issue 4): random 32^3 patches from a big ``.nii.gz``,
a hot repeated patch, full loads of indexed files on all cores, index memory.

Run by ``benches/compare.py --only seek`` (or directly); writes a markdown
section. Times are minima or medians of repeated runs in one process, on
files whose compressed bytes are in the page cache.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

DATA = Path(__file__).parent / "data" / "gz"
PATCH = 32
DEFAULT_SPAN = 512 << 10  # tioxide's default checkpoint spacing


def _time(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _best(fn: Callable[[], Any], n: int) -> float:
    return min(_time(fn) for _ in range(n))


def _patches(shape: tuple[int, ...], n: int) -> list[tuple[slice, ...]]:
    rng = np.random.default_rng(2026)
    return [
        tuple(slice(int(c), int(c) + PATCH) for c in rng.integers(0, np.array(shape[:3]) - PATCH))
        for _ in range(n)
    ]


def _our_sequence(path: Path, patches: list[tuple[slice, ...]], span: int) -> list[float]:
    from tioxide import gz, nifti

    nifti.clear_cache()
    gz.configure(span=span)
    try:
        return [_time(lambda r=r: nifti.read(path, r)) for r in patches]
    finally:
        gz.configure(span=DEFAULT_SPAN)


def patch_sequence(path: Path, n: int = 16) -> list[str]:
    from tioxide import gz, nifti

    shape = nifti.read_header(path).shape
    patches = _patches(shape, n)
    img = nib.load(path)  # nibabel keeps its indexed_gzip file (and index) open
    theirs = [_time(lambda r=r: np.asanyarray(img.dataobj[r])) for r in patches[:6]]
    for r in patches[:3]:
        np.testing.assert_array_equal(nifti.read(path, r), np.asanyarray(img.dataobj[r]))
    t_rest = statistics.median(theirs[1:])
    rows = []
    for label, span in (("1 MiB", 1 << 20), ("512 KiB (default)", DEFAULT_SPAN)):
        ours = _our_sequence(path, patches, span)
        o_rest = statistics.median(ours[1:])
        chunks = gz.cache_stats()["chunks"]
        rows.append(
            f"| tioxide, span {label} | {ours[0] * 1e3:.1f} ms ({theirs[0] / ours[0]:.1f}x) | "
            f"{o_rest * 1e3:.1f} ms ({t_rest / o_rest:.1f}x) | {chunks['entries']} chunks, "
            f"{chunks['bytes'] / 2**20:.0f} MiB |"
        )
    return [
        f"32^3 patches, `{path.name}` {shape}, {n} random positions in one process "
        "(nibabel: the first 6); later = median of patches 2..n; (ratio) = nibabel / tioxide:",
        "",
        "| | first patch | later patches | chunk cache after |",
        "|---|---:|---:|---:|",
        f"| nibabel + indexed_gzip | {theirs[0] * 1e3:.1f} ms | {t_rest * 1e3:.1f} ms | |",
        *rows,
        "",
    ]


def hot_patch(path: Path) -> list[str]:
    from tioxide import gz, nifti

    shape = nifti.read_header(path).shape
    r = _patches(shape, 1)[0]
    nifti.read(path, r)
    nifti.read(path, r)
    ours = _best(lambda: nifti.read(path, r), 50)
    held = gz.cache_stats()["chunks"]["bytes"]
    line = f"| tioxide | {ours * 1e3:.3f} ms | {held / 2**20:.0f} MiB (chunk cache) |"
    rows = [line]
    try:
        import medrs

        start, size = [s.start for s in r], [PATCH] * 3
        medrs.load_cropped(str(path), start, size)
        theirs = _best(lambda: medrs.load_cropped(str(path), start, size), 50)
        full = int(np.prod(shape)) * 4
        rows.append(f"| medrs | {theirs * 1e3:.3f} ms | {full / 2**20:.0f} MiB (whole volume) |")
    except ImportError:
        rows.append("| medrs | not installed | |")
    return [
        f"Hot file, the same 32^3 patch of `{path.name}` again (best of 50):",
        "",
        "| | time | memory held |",
        "|---|---:|---:|",
        *rows,
        "",
    ]


def _full_load_row(path: Path) -> str:
    import SimpleITK as sitk

    from tioxide import gz, nifti

    def single() -> Any:
        gz.clear_cache()
        return nifti.read(path)

    t_single = _best(single, 5)
    info = gz.build_index(path)
    t_parallel = _best(lambda: nifti.read(path), 5)
    np.testing.assert_array_equal(nifti.read(path), single())
    gz.build_index(path)
    t_nib = _best(lambda: np.asanyarray(nib.load(path, mmap=False).dataobj), 3)
    t_sitk = _best(lambda: sitk.GetArrayFromImage(sitk.ReadImage(str(path))), 3)
    peer = min(t_nib, t_sitk)
    # The one-core inflate split perfectly over every core: no decoder of
    # this speed does better.
    ceiling = peer / (t_single / len(os.sched_getaffinity(0)))
    return (
        f"| `{path.name}` | {t_parallel * 1e3:.0f} ms | {t_single * 1e3:.0f} ms | "
        f"{t_single / t_parallel:.2f}x | {t_nib * 1e3:.0f} ms | {t_sitk * 1e3:.0f} ms | "
        f"{peer / t_parallel:.1f}x | {ceiling:.1f}x | {info.points} | "
        f"{100 * info.memory / info.covered:.2f}% |"
    )


def full_loads(paths: list[Path]) -> list[str]:
    rows = [_full_load_row(path) for path in paths]
    return [
        "Full loads (best of 5; peers best of 3). Ceiling: the fastest peer against the "
        "one-core time divided by the cores, what a perfect split of the same inflate could "
        "reach:",
        "",
        "| file | tioxide, indexed (all cores) | tioxide, no index (1 core) | speed-up | "
        "nibabel | SimpleITK | vs fastest peer | ceiling | checkpoints | index memory |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]


def run() -> list[str]:
    from tioxide import _core

    if _core.__build_profile__ != "release":
        raise SystemExit("benchmark a release build (maturin develop --release)")
    big = DATA / "big_float32.nii.gz"
    lines = ["## Seek index (.nii.gz random access)", ""]
    lines += patch_sequence(big)
    lines += hot_patch(big)
    lines += full_loads([DATA / "t1_int16.nii.gz", DATA / "t1_float32.nii.gz", big])
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
