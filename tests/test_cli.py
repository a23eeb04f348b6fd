"""The `tioxide` command."""

from __future__ import annotations

import subprocess
import sys

import nibabel as nib
import numpy as np

from tioxide import cli
from tioxide.samples import phantom_path


def test_info_without_files_describes_the_bundled_sample(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    img = nib.load(phantom_path())
    assert str(phantom_path()) in out
    assert f"shape:       {img.shape}" in out
    assert "datatype code 4" in out
    assert "orientation: " + "".join(nib.aff2axcodes(img.affine)) in out
    assert "little-endian" in out
    assert "gzip" in out


def test_info_reports_each_file_and_fails_on_bad_ones(tmp_path, capsys):
    good = tmp_path / "big.nii"
    header = nib.Nifti1Header(endianness=">")
    nib.save(nib.Nifti1Image(np.zeros((4, 5, 6), "f4"), np.diag([2, 3, 4, 1]), header), good)
    bad = tmp_path / "bad.nii"
    bad.write_bytes(b"not an image")
    assert cli.main(["info", str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert "shape:       (4, 5, 6)" in captured.out
    assert "big-endian" in captured.out
    assert "spacing:     (2, 3, 4)" in captured.out
    assert captured.err.count("\n") == 1 and "bad.nii" in captured.err


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "tioxide.cli", "info"], capture_output=True, text=True, check=True
    )
    assert "phantom.nii.gz" in result.stdout
