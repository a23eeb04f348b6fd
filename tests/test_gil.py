"""Reads release the GIL: other Python threads keep running during a read."""

from __future__ import annotations

import threading
from pathlib import Path

import nibabel as nib
import numpy as np

from tioxide import nifti


def _progress_during(call) -> int:
    """How many times the main thread got to run while `call` ran in another thread."""
    done = threading.Event()
    result: list[object] = []

    def worker() -> None:
        result.append(call())
        done.set()

    ticks = 0
    thread = threading.Thread(target=worker)
    thread.start()
    while not done.is_set():
        ticks += 1
    thread.join()
    assert result, "the read failed"
    return ticks


def test_full_gzip_read_releases_the_gil(tmp_path: Path):
    data = (np.arange(160 * 160 * 160, dtype=np.int64) % 3001).astype(np.int16).reshape((160,) * 3)
    path = tmp_path / "big.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    # With the GIL held for the whole inflate, the loop above could not run
    # at all until the worker finished (one switch at most).
    assert _progress_during(lambda: nifti.read(path)) > 100
    np.testing.assert_array_equal(nifti.read(path), data)


def test_concurrent_reads_equal_serial_reads(tmp_path: Path):
    rng = np.random.default_rng(5)
    data = rng.normal(size=(40, 30, 20)).astype(np.float32)
    paths = []
    for suffix in (".nii", ".nii.gz"):
        p = tmp_path / f"v{suffix}"
        nib.save(nib.Nifti1Image(data, np.eye(4)), p)
        paths.append(p)
    regions = [(slice(i, i + 9), slice(None, None, -2), slice(3, 17)) for i in range(0, 30, 3)]
    expected = [data[r] for r in regions]
    errors: list[BaseException] = []

    def reader(path: Path) -> None:
        try:
            for _ in range(20):
                for r, e in zip(regions, expected, strict=True):
                    np.testing.assert_array_equal(nifti.read(path, r), e)
        except BaseException as exc:  # noqa: BLE001 - collected for the main thread
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(p,)) for p in paths * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
