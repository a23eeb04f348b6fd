"""Aggregate throughput of 32^3 patch reads from a .nii (and a .nii.gz) with
1, 2, 4 and 8 Python threads: reads release the GIL, so throughput should
grow with cores (issue 8 asks >= 1.6x single-thread with 8 threads on 2 cores).

    python scripts/bench_threads.py [--seconds 3] [--gz]

Prints a markdown table: reads/s and the ratio to one thread. Refuses a
debug build of the extension. Run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import nibabel as nib
import numpy as np

from tioxide import _core, gz, nifti


def throughput(path: Path, threads: int, seconds: float, corners: np.ndarray) -> float:
    stop = time.perf_counter() + seconds
    counts = [0] * threads
    barrier = threading.Barrier(threads)

    def work(t: int) -> None:
        barrier.wait()
        i = t
        while time.perf_counter() < stop:
            x, y, z = corners[i % len(corners)]
            nifti.read(path, (slice(x, x + 32), slice(y, y + 32), slice(z, z + 32)))
            counts[t] += 1
            i += threads

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    start = time.perf_counter()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return sum(counts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--gz", action="store_true", help="also a .nii.gz (indexed)")
    args = parser.parse_args()
    if _core.__build_profile__ != "release":
        raise SystemExit("refusing to time a debug build of tioxide._core")
    rng = np.random.default_rng(0)
    data = rng.integers(0, 4000, size=(256, 256, 160)).astype(np.int16)
    corners = rng.integers(0, 256 - 32, size=(4096, 3))
    corners[:, 2] %= 160 - 32
    with tempfile.TemporaryDirectory() as d:
        paths = [Path(d) / "v.nii"]
        if args.gz:
            paths.append(Path(d) / "v.nii.gz")
        for p in paths:
            nib.save(nib.Nifti1Image(data, np.eye(4)), p)
            if p.suffix == ".gz":
                gz.build_index(p)
            throughput(p, 1, 0.5, corners)  # warm up: page cache, maps, index
        print("| file | threads | reads/s | vs 1 thread |")
        print("|---|---|---|---|")
        for p in paths:
            base = 0.0
            for n in (1, 2, 4, 8):
                rate = throughput(p, n, args.seconds, corners)
                base = base or rate
                print(f"| {p.name} | {n} | {rate:,.0f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
