"""Large regions of `.nii` files are read with bounded preads (not a memory
map): values equal nibabel's, and the process holds only the region."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from tioxide import gz, nifti


def _volume() -> Any:
    rng = np.random.default_rng(4)
    return rng.integers(-3000, 3000, size=(256, 256, 96)).astype(np.int16)


def test_large_regions_equal_nibabel(tmp_path: Path) -> None:
    data = _volume()
    path = tmp_path / "big.nii"
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    rng = np.random.default_rng(5)
    for _ in range(40):
        lo = rng.integers(0, 64, size=3)
        hi = lo + rng.integers(64, 192, size=3)
        step = int(rng.choice([1, 2, -1, -3]))
        region = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
        region = (slice(region[0].start, region[0].stop, step), *region[1:])
        if step < 0:
            region = (slice(region[0].stop, region[0].start, step), *region[1:])
        np.testing.assert_array_equal(nifti.read(path, region), data[region], err_msg=str(region))


_CHILD = """
import json, sys
from pathlib import Path
from tioxide import nifti

def kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

nifti.read(sys.argv[1], (slice(0, 2),) * 3)
Path("/proc/self/clear_refs").write_text("5")
base, file_pages = kib("VmHWM"), kib("RssFile")
region = nifti.read(sys.argv[1], (slice(32, 224), slice(64, 192), slice(8, 88)))
peak, mapped = kib("VmHWM") - base, kib("RssFile") - file_pages
print(json.dumps([peak * 1024, mapped * 1024, region.nbytes]))
"""


def test_a_large_region_holds_only_its_voxels(tmp_path: Path) -> None:
    path = tmp_path / "big.nii"
    nib.save(nib.Nifti1Image(_volume(), np.eye(4)), path)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True
    )
    peak, file_pages, kept = json.loads(out.stdout)
    assert kept == 192 * 128 * 80 * 2
    assert file_pages < 1 << 20, file_pages  # the file is not mapped in
    assert peak < kept + (3 << 20), (peak, kept)  # region + one read buffer


_SPARSE_CHILD = """
import json, resource, sys
import numpy as np
from pathlib import Path
from tioxide import gz, nifti

def kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

path, budget = sys.argv[1], int(sys.argv[2])
if budget >= 0:
    gz.configure(map_bytes=budget)
nifti.read(path, (slice(0, 2),) * 3)
Path("/proc/self/clear_refs").write_text("5")
base = kib("VmHWM")
plane = nifti.read(path, (slice(None), 100, slice(None)))
after_plane = kib("VmHWM") - base
sagittal = nifti.read(path, (100, slice(None), slice(None)))
assert (sagittal == 1).all() and sagittal.shape == (512, 512)
after_sagittal = kib("VmHWM") - base
corners = np.random.default_rng(0).integers(0, 512 - 32, (400, 3))
regions = [tuple(slice(int(c), int(c) + 32) for c in corner) for corner in corners]
for region in regions:
    nifti.read(path, region)
after_patches = kib("VmHWM") - base
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for region in regions:
    nifti.read(path, region)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
print(json.dumps([after_plane * 1024, after_sagittal * 1024, after_patches * 1024,
                  plane.nbytes, faults, gz.cache_stats()["maps"]]))
"""


def _sparse_reads(path: Path, budget: int) -> list[Any]:
    out = subprocess.run(
        [sys.executable, "-c", _SPARSE_CHILD, str(path), str(budget)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: list[Any] = json.loads(out.stdout)
    return result


@pytest.fixture(scope="module")
def ones_512(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ones") / "big.nii"
    nib.save(nib.Nifti1Image(np.ones((512, 512, 512), np.uint8), np.eye(4)), path)
    return path


def test_mapped_reads_hold_bounded_memory(ones_512: Path) -> None:
    """A plane across the slowest axis, a sagittal plane (a byte from every
    page), then 400 random 32^3 patches, twice, from a 512^3 uint8 file
    (128 MiB, in the page cache), with the maps' budget at 24 MiB: the
    kernel maps whole folios on each fault, so a map would hold far more
    than the voxels read."""
    after_plane, after_sagittal, after_patches, plane, faults, maps = _sparse_reads(
        ones_512, 24 << 20
    )
    assert plane == 512 * 512
    assert after_plane < plane + (4 << 20), after_plane
    # A sagittal plane touches every page of the file; the pages behind
    # each core's reads are dropped every 4 MiB.
    assert after_sagittal < 2 * plane + (16 << 20), after_sagittal
    # The maps' pages are dropped past the budget (give or take a patch's
    # 8 MiB span and the interpreter's own growth), so patches read again
    # fault their pages back in; kept, the file's pages would be 128 MiB.
    assert after_patches < (24 + 8 + 16) << 20, after_patches
    assert maps["budget"] == 24 << 20 and maps["bytes"] < (24 + 8) << 20, maps
    assert faults > 400, faults


def test_mapped_pages_stay_within_the_default_budget(ones_512: Path) -> None:
    """The same reads with the default budget (256 MiB): the file's pages
    stay mapped (what random patches map is counted, not guessed from their
    spans), so the second pass over the patches faults nothing in."""
    after_plane, _, after_patches, plane, faults, maps = _sparse_reads(ones_512, -1)
    assert after_plane < plane + (4 << 20), after_plane
    assert maps["budget"] == 256 << 20, maps
    # All of the 128 MiB file, give or take the pages of other mapped files.
    assert 96 << 20 < maps["bytes"] <= (128 + 16) << 20, maps
    assert after_patches <= (128 + 16) << 20, after_patches
    assert faults < 40, faults


@pytest.mark.parametrize("threads", [1, 2])
def test_regions_spanning_many_mib_read_on_every_core_equal_the_file(
    tmp_path: Path, threads: int
) -> None:
    """Over 32 MiB of file per core, runs of rows are read by separate
    threads into their parts of the output."""
    path = tmp_path / "wide.nii"
    data = np.arange(256 * 256 * 272, dtype=np.float32).reshape(256, 256, 272, order="F")
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)  # 68 MiB
    mapped = np.asanyarray(nib.load(path).dataobj)
    gz.configure(threads=threads)
    try:
        for key in [
            (100, slice(None), slice(None)),
            (slice(3, 250, 7), slice(None, None, -1), slice(1, 270, 2)),
            (slice(None), 17, slice(None)),
        ]:
            nifti.clear_cache()
            np.testing.assert_array_equal(nifti.read(path, key), mapped[key], err_msg=str(key))
    finally:
        gz.configure(threads=0)
