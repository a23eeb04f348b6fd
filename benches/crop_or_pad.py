"""CropOrPad benchmark (issue 6): `CropOrPad(128)` of an image not loaded yet
(256 x 256 x 176 `.nii` and `.nii.gz`), tioxide against TorchIO 2.0.0a2's
load-then-crop; time in this process, peak RSS above the post-import baseline
in a fresh interpreter per library.

Run by ``benches/compare.py`` (or directly); writes a markdown section.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import peak_rss

DATA = Path(__file__).parent / "data"
FILES = [DATA / "plain" / "t1_int16.nii", DATA / "gz" / "t1_int16.nii.gz"]


def _crop(module: str, path: Path) -> Any:
    tio: Any = __import__(module)
    image = tio.ScalarImage(path)
    return tio.CropOrPad(128)(image).data


def _best(module: str, path: Path, n: int) -> float:
    """Best of `n`, each a first read: tioxide's caches (headers, maps, seek
    indexes, chunks) are cleared before every call."""
    from tioxide import nifti

    times = []
    for _ in range(n):
        nifti.clear_cache()
        t0 = time.perf_counter()
        _crop(module, path)
        times.append(time.perf_counter() - t0)
    return min(times)


def _rss_child(module: str, path: str) -> None:
    """In a fresh interpreter: peak RSS (bytes) of one crop, above the baseline."""
    # Both imported first: the same baseline for either library.
    import torchio  # noqa: F401

    import tioxide  # noqa: F401

    base = peak_rss.reset()
    result = _crop(module, Path(path))
    print(json.dumps(peak_rss.above(base)))
    del result


def _rss(module: str, path: Path) -> int:
    return int(peak_rss.in_child(__file__, module, str(path)))


def run() -> list[str]:
    import numpy as np

    rows = []
    for path in FILES:
        same = _crop("tioxide", path).numpy(), _crop("torchio", path).numpy()
        np.testing.assert_array_equal(*same)
        ours, theirs = _best("tioxide", path, 7), _best("torchio", path, 3)
        rss_ours, rss_theirs = _rss("tioxide", path), _rss("torchio", path)
        rows.append(
            f"| `{path.parent.name}/{path.name}` | {ours * 1e3:.1f} ms | {theirs * 1e3:.1f} ms | "
            f"{theirs / ours:.1f}x | {rss_ours / 2**20:.1f} MiB | {rss_theirs / 2**20:.1f} MiB |"
        )
    kept = 128 * 128 * 128 * 2 / 2**20
    return [
        "## CropOrPad of an image not loaded yet",
        "",
        f"`CropOrPad(128)(ScalarImage(path)).data`, 256x256x176 int16 (kept voxels: {kept:.0f} "
        "MiB); time: best of 7 (TorchIO: 3), each a first read (tioxide's caches cleared), "
        "warm page cache; peak RSS above the baseline after imports and a warm-up crop of the "
        "bundled sample, fresh interpreter each:",
        "",
        "| file | tioxide | TorchIO 2.0.0a2 | speed-up | tioxide peak RSS | TorchIO peak RSS |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--rss-child":
        _rss_child(sys.argv[2], sys.argv[3])
    else:
        print("\n".join(run()))
