"""Whole-volume reads: a `.nii.gz` is inflated in place (the process holds
the voxels and a small margin, not the compressed file as well), a region
of a `.nii.gz` too large for the whole-volume cache is not inflated whole,
and a large `.nii` is read on every core. Values equal nibabel's."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from tioxide import gz, nifti


def _phantom(shape: tuple[int, int, int], dtype: Any) -> Any:
    """Smooth anatomy plus noise: gzip shrinks it to about half, as scans."""
    z, y, x = np.meshgrid(*(np.linspace(-1, 1, n) for n in shape[::-1]), indexing="ij")
    head = 1000.0 * ((x**2 + y**2 + z**2) < 0.8)
    noise = np.random.default_rng(7).normal(0, 20, size=head.shape)
    return np.ascontiguousarray((head + noise).astype(dtype).transpose(2, 1, 0))


_CHILD = """
import json, sys
from pathlib import Path
from tioxide import gz, nifti

def kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

path, budget, region = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
if budget >= 0:
    gz.configure(chunk_cache_bytes=budget)
nifti.read_header(path)
Path("/proc/self/clear_refs").write_text("5")
base = kib("VmHWM")
key = None if region is None else tuple(slice(a, b) for a, b in region)
out = nifti.read(path, key)
print(json.dumps([(kib("VmHWM") - base) * 1024, out.nbytes]))
"""


def _peak(path: Path, budget: int = -1, region: Any = None) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(budget), json.dumps(region)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak, nbytes = json.loads(out.stdout)
    return int(peak), int(nbytes)


@pytest.fixture(scope="module")
def phantom_gz(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    data = _phantom((256, 256, 256), np.int16)  # 32 MiB of voxels
    path = tmp_path_factory.mktemp("gz") / "head.nii.gz"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    return path, data


def test_a_full_gz_load_holds_the_voxels_and_a_small_margin(
    phantom_gz: tuple[Path, Any],
) -> None:
    path, data = phantom_gz
    assert path.stat().st_size > data.nbytes // 4  # compressed is not negligible
    peak, nbytes = _peak(path)
    assert nbytes == data.nbytes
    # Voxels + the in-place margin (256 KiB + compressed / 16) + slack for
    # the interpreter; reading the compressed file on the side would add
    # its whole size (about half the voxels).
    assert peak < data.nbytes * 1.08 + (1 << 20), (peak, data.nbytes)
    nifti.clear_cache()
    np.testing.assert_array_equal(nifti.read(path), data)


def test_a_region_of_a_volume_larger_than_the_cache_is_not_inflated_whole(
    phantom_gz: tuple[Path, Any],
) -> None:
    path, data = phantom_gz
    region = [[100, 164], [100, 164], [130, 194]]  # ends past the middle of the stream
    peak, nbytes = _peak(path, budget=4 << 20, region=region)
    assert nbytes == 64**3 * 2
    # The chunks of the patch's 8 MiB span of the stream, at most; a whole
    # inflate would hold the 32 MiB of voxels.
    assert peak < 16 << 20, peak
    key = tuple(slice(a, b) for a, b in region)
    nifti.clear_cache()
    np.testing.assert_array_equal(nifti.read(path, key), data[key])


@pytest.mark.parametrize("threads", [1, 2])
def test_in_place_and_parallel_full_reads_equal_nibabel(tmp_path: Path, threads: int) -> None:
    data = _phantom((256, 256, 128), np.float32)  # 32 MiB: enough for both parallel paths
    plain, packed = tmp_path / "f.nii", tmp_path / "f.nii.gz"
    for path in (plain, packed):
        nib.save(nib.Nifti1Image(data, np.diag([0.5, 0.5, 1.0, 1.0])), path)
    # The cores read a `.nii` in 1 MiB pieces: one whose size is no
    # multiple of that, with data starting at an odd offset.
    odd = tmp_path / "odd.nii"
    img = nib.Nifti1Image(_phantom((255, 257, 67), np.int16), np.eye(4))
    img.header.set_data_offset(1001)
    nib.save(img, odd)
    assert nib.load(odd).dataobj.offset == 1001
    gz.configure(threads=threads)
    try:
        for path in (plain, packed, odd, plain):
            nifti.clear_cache()
            np.testing.assert_array_equal(nifti.read(path), np.asanyarray(nib.load(path).dataobj))
    finally:
        gz.configure(threads=0)


def test_the_memory_of_a_dropped_volume_serves_the_next_read(tmp_path: Path) -> None:
    """The core keeps the last large array Python frees and reads the next
    volume of that size into it: same address, no page faults."""
    data = _phantom((256, 256, 128), np.float32)  # 32 MiB
    plain, packed = tmp_path / "v.nii", tmp_path / "v.nii.gz"
    for path in (plain, packed):
        nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    for path in (plain, packed):
        gz.clear_cache()
        first = nifti.read(path)
        address = first.ctypes.data
        del first
        assert gz.cache_stats()["spare"]["bytes"] >= data.nbytes
        second = nifti.read(path)
        assert second.ctypes.data == address
        assert gz.cache_stats()["spare"]["bytes"] == 0
        np.testing.assert_array_equal(second, data)
        view = second[:2]
        del second  # a view keeps the memory: nothing is given back yet
        assert gz.cache_stats()["spare"]["bytes"] == 0
        np.testing.assert_array_equal(view, data[:2])
        del view  # the last reference: now the memory is given back
        assert gz.cache_stats()["spare"]["bytes"] >= data.nbytes
        gz.clear_cache()
        assert gz.cache_stats()["spare"]["bytes"] == 0


def test_a_small_volume_goes_back_to_the_pool_only_when_it_crossed_threads(
    tmp_path: Path,
) -> None:
    """A small volume read and dropped on one thread goes back to the
    allocator (whose next allocation on that thread reuses it while it is
    still in the cache); one read on a worker thread and dropped on another
    (a queue's prefetch) is kept for the worker's next read."""
    data = _phantom((128, 128, 64), np.int16)  # 2 MiB
    for name in ("v.nii", "v.nii.gz"):
        path = tmp_path / name
        nib.save(nib.Nifti1Image(data, np.eye(4)), path)
        gz.clear_cache()
        here = nifti.read(path)
        np.testing.assert_array_equal(here, data)
        del here
        assert gz.cache_stats()["spare"]["bytes"] == 0
        with ThreadPoolExecutor(max_workers=1) as pool:
            there = pool.submit(nifti.read, path).result()
        np.testing.assert_array_equal(there, data)
        del there
        assert gz.cache_stats()["spare"]["bytes"] >= data.nbytes
        gz.clear_cache()


def _lazy_free_bytes() -> int:
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("LazyFree:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no LazyFree in smaps_rollup")


def test_only_older_spares_are_marked_for_the_kernel_to_take(tmp_path: Path) -> None:
    """The newest spare is left as it is (marking clears its pages' dirty
    bits, which a read into it then pays for, page by page, where they are
    not huge pages); the spare it replaces as the newest is marked
    MADV_FREE, so that the kernel may take it back."""
    older, newer = tmp_path / "older.nii", tmp_path / "newer.nii"
    nib.save(nib.Nifti1Image(_phantom((256, 256, 128), np.float32), np.eye(4)), older)
    nib.save(nib.Nifti1Image(_phantom((256, 256, 192), np.float32), np.eye(4)), newer)
    gz.clear_cache()
    before = _lazy_free_bytes()
    first = nifti.read(older)
    del first
    assert gz.cache_stats()["spare"]["bytes"] >= 32 << 20
    assert _lazy_free_bytes() - before < 4 << 20  # the newest: not marked
    second = nifti.read(newer)
    del second
    assert gz.cache_stats()["spare"]["bytes"] >= 80 << 20
    marked = _lazy_free_bytes() - before
    assert 28 << 20 < marked < 40 << 20, marked  # the older one only
    again = nifti.read(older)  # takes the marked spare, as it is
    np.testing.assert_array_equal(again, np.asanyarray(nib.load(older).dataobj))
    del again
    gz.clear_cache()
