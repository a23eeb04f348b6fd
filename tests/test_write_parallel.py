"""The parallel gzip writer: one standard gzip member that every reader
accepts, any level, and a seek index for free."""

from __future__ import annotations

import subprocess
import warnings
import zlib
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from tioxide import gz, nifti


def _volume(seed: int) -> Any:
    rng = np.random.default_rng(seed)
    smooth = np.cumsum(rng.normal(size=(96, 80, 120)), axis=2) * 30
    return smooth.astype(np.int16)


@pytest.mark.parametrize("level", [None, 0, 1, 6, 9])
def test_one_member_every_reader_accepts(tmp_path: Path, level: int | None) -> None:
    data = _volume(level or 0)
    path = tmp_path / f"w{level}.nii.gz"
    nifti.write(path, data, np.diag([1.2, 1.0, 2.5, 1.0]), level=level)
    raw = path.read_bytes()
    inflater = zlib.decompressobj(wbits=31)
    stream = inflater.decompress(raw)
    assert inflater.eof and inflater.unused_data == b""  # a single member
    assert len(stream) == 352 + data.nbytes
    assert subprocess.run(["gzip", "-t", str(path)], check=False).returncode == 0
    np.testing.assert_array_equal(np.asanyarray(nib.load(path).dataobj), data)
    itk = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
    np.testing.assert_array_equal(itk, data.transpose(2, 1, 0))
    np.testing.assert_array_equal(nifti.read(path), data)
    if level == 6:
        # pigz-style blocks cost little ratio against one zlib stream.
        assert len(raw) < 1.03 * len(zlib.compress(stream, 6))


def test_the_default_run_length_matches_stay_close_to_level_6(tmp_path: Path) -> None:
    """The default (zlib's Z_RLE strategy) gives up little ratio on images:
    a smooth phantom with a background and noisy tissue, int16 and float32."""
    grid = np.indices((128, 128, 96)).astype(np.float32)
    inside = ((grid[0] - 64) ** 2 + (grid[1] - 64) ** 2 + (grid[2] - 48) ** 2) < 40**2
    noise = np.random.default_rng(3).normal(0, 15, size=inside.shape)
    head = np.where(inside, 800 + noise + grid[2], 0)
    for volume in (head.astype(np.int16), head.astype(np.float32)):
        sizes = {}
        for level in (None, 6):
            path = tmp_path / f"{volume.dtype}-{level}.nii.gz"
            nifti.write(path, volume, level=level)
            sizes[level] = path.stat().st_size
            np.testing.assert_array_equal(np.asanyarray(nib.load(path).dataobj), volume)
        assert sizes[None] < 1.1 * sizes[6], (volume.dtype, sizes)


@pytest.mark.parametrize("level", [-1, 10])
def test_a_level_out_of_range_is_refused(tmp_path: Path, level: int) -> None:
    with pytest.raises(ValueError, match=f"level must be 0 to 9.*{level}"):
        nifti.write(tmp_path / "x.nii.gz", np.zeros((4, 4, 4), np.uint8), level=level)
    assert not (tmp_path / "x.nii.gz").exists()


def test_index_written_with_the_file(tmp_path: Path) -> None:
    data = _volume(7)
    path = tmp_path / "i.nii.gz"
    nifti.write(path, data, index=True)
    sidecar = gz.sidecar_path(path)
    assert sidecar.exists()
    nifti.clear_cache()
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the sidecar must be accepted
        for _ in range(100):
            lo = rng.integers(0, data.shape, size=3)
            hi = lo + rng.integers(1, 30, size=3)
            region = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
            np.testing.assert_array_equal(nifti.read(path, region), data[region])
        np.testing.assert_array_equal(nifti.read(path), data)
    # It is the whole index: nothing to build.
    assert gz.cache_stats()["indexes"]["entries"] == 1
    assert gz.build_index(path).complete


def test_nifti2_when_a_dimension_needs_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(-500, 500, size=(40000, 3, 2)).astype(np.int16)
    affine = np.array([[0, -2.0, 0, 5], [1.5, 0, 0, -3], [0, 0, 4.0, 7], [0, 0, 0, 1]])
    for name in ("big.nii", "big.nii.gz"):
        path = tmp_path / name
        nifti.write(path, data, affine)
        img = nib.load(path)
        assert isinstance(img, nib.Nifti2Image)
        np.testing.assert_array_equal(np.asanyarray(img.dataobj), data)
        np.testing.assert_allclose(img.affine, affine)
        assert nifti.read_header(path).format == "nifti2"
        np.testing.assert_array_equal(nifti.read(path), data)
    small = tmp_path / "small.nii"
    nifti.write(small, data[:10], affine, format="nifti2")
    assert isinstance(nib.load(small), nib.Nifti2Image)
    nifti.write(small, data[:10], affine, format="nifti1")
    assert type(nib.load(small)) is nib.Nifti1Image
    with pytest.raises(ValueError, match="32767"):
        nifti.write(tmp_path / "x.nii", data, format="nifti1")
    with pytest.raises(ValueError, match="format"):
        nifti.write(tmp_path / "x.nii", data, format="nifti3")


def test_header_fields_and_extensions_carry_over(tmp_path: Path) -> None:
    img = nib.Nifti1Image(np.arange(120, dtype=np.float32).reshape(4, 5, 6), np.diag([2, 2, 3, 1]))
    img.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"hello world"))
    img.header.extensions.append(nib.nifti1.Nifti1Extension(4, b"<afni>x</afni>" * 5))
    img.header["descrip"] = b"made by a test"
    img.header.set_xyzt_units("mm", "sec")
    img.header["intent_code"] = 1002
    source = tmp_path / "e.nii"
    nib.save(img, source)
    header = nifti.read_header(source)
    for suffix in (".nii", ".nii.gz"):
        out = tmp_path / f"copy{suffix}"
        nifti.write(out, nifti.read(source), header.affine, header=header)
        a, b = nib.load(source).header, nib.load(out).header
        assert [(e.get_code(), e.get_content()) for e in b.extensions] == [
            (e.get_code(), e.get_content()) for e in a.extensions
        ]
        for field in ("descrip", "xyzt_units", "intent_code", "sform_code", "qform_code"):
            assert a[field] == b[field], field
        np.testing.assert_array_equal(np.asanyarray(nib.load(out).dataobj), img.get_fdata())
    plain = tmp_path / "plain.nii"
    nifti.write(plain, np.zeros((2, 2, 2)), header=header, extensions=[])
    assert len(nib.load(plain).header.extensions) == 0
    with pytest.raises(TypeError, match="extension"):
        nifti.write(plain, np.zeros((2, 2, 2)), extensions=[("x", b"")])  # type: ignore[list-item]


def test_a_killed_save_leaves_the_previous_file(tmp_path: Path) -> None:
    import signal
    import sys
    import time

    path = tmp_path / "keep.nii.gz"
    old = np.arange(1000, dtype=np.int16).reshape(10, 10, 10)
    nifti.write(path, old)
    script = (
        "import numpy as np; from tioxide import nifti; "
        "a = np.random.default_rng(0).normal(size=(256, 256, 256)).astype(np.float32); "
        "print('ready', flush=True); "
        f"nifti.write({str(path)!r}, a, level=9)"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
    time.sleep(0.3)  # well inside a 64 MiB level-9 compression
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    np.testing.assert_array_equal(nifti.read(path), old)
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == [path.name]
