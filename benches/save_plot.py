"""Saving and plotting benchmark (issue 7).

- Saving the 256 x 256 x 176 float32 volume as ``.nii.gz``: tioxide's
  ``Image.save`` (parallel gzip on all cores) against TorchIO 2.0.0a2's
  ``Image.save`` and SimpleITK's ``WriteImage``, with the compressed sizes.
- ``plot()`` of an unloaded 512^3 float32 ``.nii``: tioxide reads the three
  slices shown, TorchIO loads the volume; time, and peak RSS above the
  post-import baseline in a fresh interpreter each.

Run by ``benches/compare.py`` (or directly).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import peak_rss

DATA = Path(__file__).parent / "data"
VOLUME = DATA / "plain" / "t1_float32.nii"
BIG = DATA / "plain" / "big_float32.nii"


def _best(fn: Callable[[], Any], n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def save_section() -> list[str]:
    import SimpleITK as sitk
    import torchio

    import tioxide

    ours_image = tioxide.ScalarImage(VOLUME)
    ours_image.load()
    theirs_image = torchio.ScalarImage(VOLUME)
    theirs_image.load()
    sitk_image = sitk.ReadImage(str(VOLUME))
    with tempfile.TemporaryDirectory() as tmp:
        out = {name: Path(tmp) / f"{name}.nii.gz" for name in ("tioxide", "torchio", "sitk")}
        times = {
            "tioxide": _best(lambda: ours_image.save(out["tioxide"]), 5),
            "torchio": _best(lambda: theirs_image.save(out["torchio"]), 3),
            "sitk": _best(lambda: sitk.WriteImage(sitk_image, str(out["sitk"]), True), 3),
        }
        sizes = {name: path.stat().st_size for name, path in out.items()}
        import nibabel as nib
        import numpy as np

        expected = np.asanyarray(nib.load(VOLUME).dataobj)
        for path in out.values():
            np.testing.assert_array_equal(np.asanyarray(nib.load(path).dataobj), expected)
    rows = [
        f"| {label} | {times[name] * 1e3:.0f} ms | {times[name] / times['tioxide']:.1f}x | "
        f"{sizes[name] / 2**20:.2f} MiB | {sizes[name] / sizes['tioxide']:.3f} |"
        for name, label in (
            ("tioxide", "tioxide `Image.save`"),
            ("torchio", "TorchIO 2.0.0a2 `Image.save`"),
            ("sitk", "SimpleITK `WriteImage(useCompression=True)`"),
        )
    ]
    return [
        "## Saving as .nii.gz",
        "",
        f"`{VOLUME.name}` (256x256x176 float32, loaded) saved as `.nii.gz`, "
        "default settings (tioxide: run-length matches, zlib's Z_RLE; the peers: their defaults); "
        "best of 5 (peers: 3); every output read back by nibabel and checked equal:",
        "",
        "| writer | time | time vs tioxide | size | size vs tioxide |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
    ]


def _plot(module: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tio: Any = __import__(module)
    tio.ScalarImage(path).plot(show=False)
    plt.close("all")


def _plot_child(module: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torchio  # noqa: F401

    import tioxide  # noqa: F401

    # A warm-up plot of a tiny image: matplotlib's first figure costs memory
    # that is not the reader's.
    small = Path(tempfile.mkdtemp()) / "small.nii"
    import numpy as np

    tioxide.nifti.write(small, np.zeros((8, 8, 8), np.float32), np.eye(4))
    tioxide.ScalarImage(small).plot(show=False)
    plt.close("all")

    base = peak_rss.reset()
    t0 = time.perf_counter()
    _plot(module, Path(path))
    seconds = time.perf_counter() - t0
    print(json.dumps({"rss": peak_rss.above(base), "seconds": seconds}))


def _plot_run(module: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--plot-child", module, str(BIG)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def plot_section() -> list[str]:
    ours = [_plot_run("tioxide") for _ in range(3)]
    theirs = [_plot_run("torchio") for _ in range(2)]
    t_ours = min(r["seconds"] for r in ours)
    t_theirs = min(r["seconds"] for r in theirs)
    rss_ours = min(r["rss"] for r in ours)
    rss_theirs = min(r["rss"] for r in theirs)
    volume = BIG.stat().st_size
    return [
        "## plot() of an image not loaded yet",
        "",
        f"`ScalarImage('{BIG.name}').plot(show=False)`, 512^3 float32 `.nii` "
        f"({volume / 2**20:.0f} MiB), Agg backend, warm page cache; fresh interpreter per run "
        "(best of 3, TorchIO: 2) after a warm-up plot of a tiny image; peak RSS above the "
        "baseline after that warm-up:",
        "",
        "| library | time | peak RSS |",
        "|---|---:|---:|",
        f"| tioxide | {t_ours * 1e3:.0f} ms | {rss_ours / 2**20:.1f} MiB |",
        f"| TorchIO 2.0.0a2 | {t_theirs * 1e3:.0f} ms | {rss_theirs / 2**20:.1f} MiB |",
        f"| ratio | {t_theirs / t_ours:.1f}x | {rss_theirs / max(rss_ours, 1):.1f}x |",
        "",
        f"(Three 512x512 float32 slices are {3 * 512 * 512 * 4 / 2**20:.0f} MiB.)",
        "",
    ]


def run() -> list[str]:
    return save_section() + plot_section()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--plot-child":
        _plot_child(sys.argv[2], sys.argv[3])
    else:
        print("\n".join(run()))
