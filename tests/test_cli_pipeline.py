"""``tioxide transform`` and ``tioxide cache`` against TorchIO 2.0.0a2's
``torchio transform`` and ``torchio cache``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tioxide import cli
from tioxide.samples import phantom_path

TORCHIO = [sys.executable, "-c", "from torchio.cli import main; main()"]


@pytest.mark.parametrize(
    "args",
    [
        ["Flip", "axes=(0, 2)"],
        ["CropOrPad", "target_shape=(40, 50, 30)"],
        ["Pad", "padding=3"],
        ["Normalize", "out_min=-1", "out_max=1"],
        ["Resample", "target=4"],
    ],
    ids=lambda a: a[0],
)
def test_transform_writes_what_torchio_writes(tmp_path: Path, args: list[str]) -> None:
    ours, theirs = tmp_path / "ours.nii.gz", tmp_path / "theirs.nii.gz"
    assert cli.main(["transform", str(phantom_path()), str(ours), *args]) == 0
    subprocess.run([*TORCHIO, "transform", str(phantom_path()), str(theirs), *args], check=True)
    a, b = nib.load(ours), nib.load(theirs)
    assert a.shape == b.shape
    np.testing.assert_allclose(a.affine, b.affine, atol=1e-6)
    np.testing.assert_allclose(np.asanyarray(a.dataobj), np.asanyarray(b.dataobj), atol=1e-5)


def test_transform_failures_name_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "x.nii.gz")
    sample = str(phantom_path())
    cases = [
        (["transform", sample, out, "Nope"], "unknown transform 'Nope'; available: Affine"),
        (["transform", sample, out, "Noise", "std"], "invalid argument 'std': expected key=value"),
        (["transform", sample, out, "CropOrPad", "size=3"], "CropOrPad"),
        (["transform", str(tmp_path / "missing.nii"), out, "Noise"], "missing.nii"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("tioxide: error:") and message in err, err
    assert not Path(out).exists()


def test_transform_finds_aliases(tmp_path: Path) -> None:
    """RescaleIntensity is Normalize under another name (TorchIO's command
    does not find it)."""
    paths = [tmp_path / "alias.nii.gz", tmp_path / "class.nii.gz"]
    for path, name in zip(paths, ["RescaleIntensity", "Normalize"], strict=True):
        assert cli.main(["transform", str(phantom_path()), str(path), name, "out_min=0"]) == 0
    a, b = (np.asanyarray(nib.load(p).dataobj) for p in paths)
    assert a.min() == 0 and np.array_equal(a, b)


def test_transform_keeps_string_values_and_labels(tmp_path: Path) -> None:
    out = tmp_path / "reoriented.nii.gz"
    assert (
        cli.main(["transform", str(phantom_path()), str(out), "Reorient", "orientation=RAS"]) == 0
    )
    assert nib.aff2axcodes(nib.load(out).affine) == ("R", "A", "S")
    labels = tmp_path / "labels.nii.gz"
    assert (
        cli.main(["transform", str(phantom_path()), str(labels), "Resample", "target=5", "--label"])
        == 0
    )
    data = np.asanyarray(nib.load(labels).dataobj)
    # A label map is resampled by nearest neighbour: no value the input lacks.
    assert set(np.unique(data)) <= set(np.unique(np.asanyarray(nib.load(phantom_path()).dataobj)))


def test_cache_dir_and_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "torchio"
    assert cli.main(["cache", "dir"]) == 0
    assert capsys.readouterr().out.strip() == str(folder)
    theirs = subprocess.run([*TORCHIO, "cache", "dir"], check=True, capture_output=True, text=True)
    assert theirs.stdout.strip() == str(folder)
    for name in ("fpg", "slicer"):
        (folder / name).mkdir(parents=True)
        (folder / name / "file").write_bytes(b"x")
    assert cli.main(["cache", "clean", "--dataset", "fpg"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["slicer"]
    assert cli.main(["cache", "clean", "--dataset", "fpg"]) == 0
    assert "nothing cached" in capsys.readouterr().out
    assert cli.main(["cache", "clean", "--dataset", "../elsewhere"]) == 1
    assert "not a dataset name" in capsys.readouterr().err
    assert cli.main(["cache", "clean"]) == 0
    assert not folder.exists()
    shutil.rmtree(tmp_path, ignore_errors=True)
