"""``PatchAggregator(output_path=...)``: outputs accumulated on disk equal the in-memory ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch

import tioxide as tio


def grid_batches(shape: tuple[int, int, int], patch: int, overlap: int, channels: int, seed: int):
    """Random model outputs for every location of a grid, in batches of 3."""
    subject = tio.Subject(t1=tio.ScalarImage(torch.zeros(1, *shape)))
    sampler = tio.GridSampler(subject, patch_size=patch, patch_overlap=overlap)
    generator = torch.Generator().manual_seed(seed)
    locations = sampler.locations
    for start in range(0, len(locations), 3):
        batch = locations[start : start + 3]
        yield torch.rand(len(batch), channels, patch, patch, patch, generator=generator), batch


@pytest.mark.parametrize("mode", ["crop", "average", "hann"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_disk_output_equals_memory_output(
    tmp_path: Path, mode: str, channels: int, suffix: str
) -> None:
    shape = (21, 18, 25)
    affine = np.diag([0.8, 1.0, 1.5, 1.0])
    affine[:3, 3] = [10, -3, 4]
    memory = tio.PatchAggregator(shape, overlap_mode=mode, patch_overlap=4)
    path = tmp_path / f"out{suffix}"
    disk = tio.PatchAggregator(
        shape, overlap_mode=mode, patch_overlap=4, output_path=path, affine=affine
    )
    for batch, locations in grid_batches(shape, 10, 4, channels, seed=1):
        memory.add_batch(batch, locations)
        disk.add_batch(batch, locations)
    assert not path.exists()
    expected = memory.get_output()
    image = disk.save_output()
    assert path.exists() and not image.is_loaded
    assert torch.equal(image.data, expected)
    assert torch.equal(disk.get_output(), expected)
    written = nib.load(path)
    np.testing.assert_allclose(written.affine, affine)
    stored = np.asanyarray(written.dataobj)
    as_cijk = stored[np.newaxis] if channels == 1 else np.moveaxis(stored, 3, 0)
    np.testing.assert_array_equal(as_cijk, expected.numpy())
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_grid_over_an_unloaded_file_is_rebuilt_on_disk(tmp_path: Path) -> None:
    volume = np.random.default_rng(0).standard_normal((30, 26, 22)).astype(np.float32)
    source = tmp_path / "in.nii.gz"
    nib.save(nib.Nifti1Image(volume, np.eye(4)), source)
    subject = tio.Subject(t1=tio.ScalarImage(source))
    sampler = tio.GridSampler(subject, patch_size=(12, 10, 8), patch_overlap=(4, 2, 2))
    out = tmp_path / "out.nii"
    aggregator = tio.PatchAggregator(
        subject.spatial_shape, "crop", patch_overlap=(4, 2, 2), output_path=out
    )
    for batch in tio.SubjectsLoader(sampler, batch_size=4):
        aggregator.add_batch(batch.t1.data, batch.patch_location)
    assert not subject.t1.is_loaded
    np.testing.assert_array_equal(aggregator.save_output().numpy()[0], volume)


def test_disk_output_errors(tmp_path: Path) -> None:
    patch = torch.ones(1, 1, 4, 4, 4)
    location = [tio.PatchLocation(index=(0, 0, 0), size=(4, 4, 4))]
    single = tio.PatchAggregator((8, 8, 8), output_path=tmp_path / "a.nii")
    single.add_batch({"x": patch}, location)
    with pytest.raises(ValueError, match="mapping from key to file"):
        single.add_batch({"y": patch}, location)
    mapped = tio.PatchAggregator((8, 8, 8), output_path={"x": tmp_path / "x.nii"})
    with pytest.raises(KeyError, match="no file for the output 'y'"):
        mapped.add_batch({"y": patch}, location)
    with pytest.raises(RuntimeError, match="output_path"):
        tio.PatchAggregator((8, 8, 8)).save_output()
    with pytest.raises(KeyError, match="No output"):
        single.save_output("z")
    averaging = tio.PatchAggregator((8, 8, 8), "average", output_path=tmp_path / "i.nii")
    with pytest.raises(TypeError, match="i.nii: cannot average patches of dtype torch.int64"):
        averaging.add_batch(torch.ones(1, 1, 4, 4, 4, dtype=torch.int64), location)
    with pytest.raises(FileNotFoundError, match="missing"):
        tio.PatchAggregator((8, 8, 8), output_path=tmp_path / "missing" / "m.nii").add_batch(
            patch, location
        )
    del single, mapped, averaging
    assert sorted(p.name for p in tmp_path.iterdir()) == []


_CHILD = """
import json, sys
from pathlib import Path
import torch
import tioxide as tio

def kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

shape = (256, 256, 256)
locations = tio.GridSampler(
    tio.Subject(t1=tio.ScalarImage(torch.zeros(1, 1, 1, 1).expand(1, *shape))),
    patch_size=64, patch_overlap=16,
).locations
aggregator = tio.PatchAggregator(shape, "hann", patch_overlap=16, output_path=sys.argv[1])
patch = torch.ones(1, 1, 64, 64, 64)
aggregator.add_batch(patch, locations[:1])
Path("/proc/self/clear_refs").write_text("5")
base = kib("VmHWM")
for location in locations[1:]:
    aggregator.add_batch(patch * location.index[2], [location])
image = aggregator.save_output()
print(json.dumps([(kib("VmHWM") - base) * 1024, len(locations)]))
"""


def test_disk_output_holds_a_patch_not_the_volume(tmp_path: Path) -> None:
    out = tmp_path / "big.nii"
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, str(out)], capture_output=True, text=True, check=True
    )
    peak, count = json.loads(run.stdout)
    assert count == 125
    # The output is 64 MiB (and its weights 64 MiB more); a few patch-sized
    # buffers and one 4 MiB slab (and copies) are held at a time.
    assert peak < 48 << 20, peak
    plane = tio.ScalarImage(out)[:, :, :, 200:201].data
    assert plane.shape == (1, 256, 256, 1)
