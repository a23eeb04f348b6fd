"""Image API benchmark (issue 5): the same calls on ``tioxide.ScalarImage``
and ``torchio.ScalarImage``: ``.shape``/``.affine`` of a new image,
``.data`` of a ``.nii``, and ``img[..., k].data`` of an unloaded 512^3
``.nii`` (time, and peak RSS in a fresh interpreter per library).

Run by ``benches/compare.py`` (or directly); writes a markdown section.
"""

from __future__ import annotations

import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import peak_rss

DATA = Path(__file__).parent / "data"
HEADER_FILES = [DATA / "gz" / "t1_int16.nii.gz", DATA / "plain" / "t1_int16.nii"]
DATA_FILES = [DATA / "plain" / "t1_int16.nii", DATA / "plain" / "t1_float32.nii"]
BIG = DATA / "plain" / "big_float32.nii"


def _module(name: str) -> Any:
    return __import__(name)


def _header(name: str, path: Path) -> Any:
    image = _module(name).ScalarImage(path)
    return image.shape, image.affine


def _data(name: str, path: Path) -> Any:
    return _module(name).ScalarImage(path).data


def _slice(name: str, path: Path) -> Any:
    image = _module(name).ScalarImage(path)
    return image[..., image.shape[-1] // 2].data


def _median(fn: Callable[[], Any], seconds: float, at_least: int) -> float:
    """Median of repeated first reads (tioxide's caches cleared before each)."""
    from tioxide import nifti

    times: list[float] = []
    start = time.perf_counter()
    while len(times) < at_least or time.perf_counter() - start < seconds:
        nifti.clear_cache()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _rss_child(name: str, path: str) -> None:
    """In a fresh interpreter: peak RSS (bytes) of one slice read, above the
    baseline after both imports and a warm-up read of another file."""
    import torchio  # noqa: F401

    import tioxide  # noqa: F401

    _slice(name, HEADER_FILES[1])
    base = peak_rss.reset()
    result = _slice(name, Path(path))
    print(json.dumps([peak_rss.above(base), int(result.numel() * result.element_size())]))


def _rss(name: str, path: Path) -> tuple[int, int]:
    peak, kept = peak_rss.in_child(__file__, name, str(path))
    return int(peak), int(kept)


def _check_equal(op: Callable[[str, Path], Any], path: Path) -> None:
    import numpy as np

    ours, theirs = op("tioxide", path), op("torchio", path)
    if isinstance(ours, tuple):
        assert tuple(ours[0]) == tuple(theirs[0]), (path, ours[0], theirs[0])
        np.testing.assert_allclose(np.asarray(ours[1]), np.asarray(theirs[1]), atol=1e-6)
    else:
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def run() -> list[str]:
    cases: list[tuple[str, Callable[[str, Path], Any], Path, str]] = [
        *(("`.shape` + `.affine`", _header, p, "5x") for p in HEADER_FILES),
        *(("`.data`", _data, p, "10x") for p in DATA_FILES),
        ("`img[..., k].data` (unloaded)", _slice, BIG, "reads the slice only"),
    ]
    rows = []
    for label, op, path, target in cases:
        _check_equal(op, path)
        ours = _median(functools.partial(op, "tioxide", path), 1.0, 5)
        theirs = _median(functools.partial(op, "torchio", path), 1.0, 3)
        rows.append(
            f"| {label} | `{path.parent.name}/{path.name}` | {_fmt(ours)} | {_fmt(theirs)} | "
            f"{theirs / ours:.1f}x | {target} |"
        )
    (rss_ours, kept), (rss_theirs, _) = _rss("tioxide", BIG), _rss("torchio", BIG)
    return [
        "## Image API",
        "",
        "The same calls on `tioxide.ScalarImage` and `torchio.ScalarImage` (TorchIO 2.0.0a2), "
        "each on a new image; median of repeated first reads (tioxide's caches cleared before "
        "each; >= 1 s per cell), warm page cache; results checked equal:",
        "",
        "| call | file | tioxide | TorchIO 2.0.0a2 | speed-up | target |",
        "|---|---|---:|---:|---:|---|",
        *rows,
        "",
        f"Peak RSS of `img[..., k].data` on the unloaded 512^3 float32 `.nii` (512 MiB; the "
        f"slice is {kept / 2**20:.1f} MiB), above the baseline after imports and a warm-up "
        f"read, fresh interpreter each: tioxide {rss_ours / 2**20:.1f} MiB, TorchIO 2.0.0a2 "
        f"{rss_theirs / 2**20:.1f} MiB.",
        "",
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--rss-child":
        _rss_child(sys.argv[2], sys.argv[3])
    else:
        print("\n".join(run()))
